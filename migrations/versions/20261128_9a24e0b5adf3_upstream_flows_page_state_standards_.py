"""upstream flows: page state, standards, playbooks, gate links, lessons

Revision ID: 9a24e0b5adf3
Revises: 76bae01f8dea
Create Date: 2026-11-28 23:02:42.434483

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a24e0b5adf3'
down_revision = '76bae01f8dea'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('compiled_standards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('source_page_id', sa.String(length=32), nullable=False),
    sa.Column('source_page_version', sa.Integer(), nullable=False),
    sa.Column('table_rows', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('rule_count', sa.Integer(), nullable=False),
    sa.Column('compiled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_compiled_standards_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compiled_standards')),
    sa.UniqueConstraint('tenant_id', name='uq_compiled_standards_tenant')
    )
    with op.batch_alter_table('compiled_standards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compiled_standards_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('gate_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.String(length=64), nullable=False),
    sa.Column('gate_key', sa.String(length=128), nullable=False),
    sa.Column('external_ref', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('task_title', sa.Text(), nullable=False),
    sa.Column('consonance_task_id', sa.String(length=64), nullable=True),
    sa.Column('consonance_done', sa.Boolean(), nullable=False),
    sa.Column('confluence_done', sa.Boolean(), nullable=False),
    sa.Column('tick_pending', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_gate_link_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_link')),
    sa.UniqueConstraint('tenant_id', 'work_id', 'gate_key', name='uq_gate_link')
    )
    with op.batch_alter_table('gate_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gate_link_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gate_link_work_id'), ['work_id'], unique=False)

    op.create_table('playbook_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_playbook_source_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_source')),
    sa.UniqueConstraint('tenant_id', 'page_id', name='uq_playbook_source_page')
    )
    with op.batch_alter_table('playbook_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playbook_source_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('retrospective_lesson',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.String(length=32), nullable=False),
    sa.Column('page_title', sa.String(length=255), nullable=True),
    sa.Column('work_id', sa.String(length=64), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_retrospective_lesson_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retrospective_lesson')),
    sa.UniqueConstraint('tenant_id', 'page_id', 'identity', name='uq_retrospective_lesson')
    )
    with op.batch_alter_table('retrospective_lesson', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retrospective_lesson_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retrospective_lesson_work_id'), ['work_id'], unique=False)

    op.create_table('upstream_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('page_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_upstream_page_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upstream_page')),
    sa.UniqueConstraint('tenant_id', 'work_id', 'kind', name='uq_upstream_page')
    )
    with op.batch_alter_table('upstream_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upstream_page_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('upstream_page_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.String(length=32), nullable=False),
    sa.Column('pending_version', sa.Integer(), nullable=False),
    sa.Column('handled_version', sa.Integer(), nullable=False),
    sa.Column('own_versions', sa.JSON(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=True),
    sa.Column('last_actor', sa.String(length=255), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_upstream_page_state_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upstream_page_state')),
    sa.UniqueConstraint('tenant_id', 'page_id', name='uq_upstream_page_state')
    )
    with op.batch_alter_table('upstream_page_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upstream_page_state_tenant_id'), ['tenant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('upstream_page_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upstream_page_state_tenant_id'))

    op.drop_table('upstream_page_state')
    with op.batch_alter_table('upstream_page', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upstream_page_tenant_id'))

    op.drop_table('upstream_page')
    with op.batch_alter_table('retrospective_lesson', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retrospective_lesson_work_id'))
        batch_op.drop_index(batch_op.f('ix_retrospective_lesson_tenant_id'))

    op.drop_table('retrospective_lesson')
    with op.batch_alter_table('playbook_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playbook_source_tenant_id'))

    op.drop_table('playbook_source')
    with op.batch_alter_table('gate_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gate_link_work_id'))
        batch_op.drop_index(batch_op.f('ix_gate_link_tenant_id'))

    op.drop_table('gate_link')
    with op.batch_alter_table('compiled_standards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compiled_standards_tenant_id'))

    op.drop_table('compiled_standards')
