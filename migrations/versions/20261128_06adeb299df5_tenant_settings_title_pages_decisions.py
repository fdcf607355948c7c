"""tenant settings, title pages, decisions

Revision ID: 06adeb299df5
Revises: c86abcbdaa81
Create Date: 2026-11-28 22:46:12.701796

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '06adeb299df5'
down_revision = 'c86abcbdaa81'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('work_id', sa.String(length=64), nullable=False),
    sa.Column('decision_type', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_page_id', sa.String(length=32), nullable=True),
    sa.Column('from_stage', sa.String(length=100), nullable=True),
    sa.Column('to_stage', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivery_state', sa.String(length=16), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_decision_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_decision_tenant_key')
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_work_id'), ['work_id'], unique=False)

    op.create_table('tenant_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=255), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_tenant_settings_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_settings')),
    sa.UniqueConstraint('tenant_id', name='uq_tenant_settings_tenant_id')
    )
    with op.batch_alter_table('tenant_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_settings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('title_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('page_id', sa.String(length=32), nullable=True),
    sa.Column('space_id', sa.String(length=32), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_title_page_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_title_page')),
    sa.UniqueConstraint('tenant_id', 'work_id', 'role', name='uq_title_page_tenant_work_role')
    )
    with op.batch_alter_table('title_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_title_page_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_title_page_tenant_page', ['tenant_id', 'page_id'], unique=False)



def downgrade():
    with op.batch_alter_table('title_page', schema=None) as batch_op:
        batch_op.drop_index('ix_title_page_tenant_page')
        batch_op.drop_index(batch_op.f('ix_title_page_tenant_id'))

    op.drop_table('title_page')
    with op.batch_alter_table('tenant_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_settings_tenant_id'))

    op.drop_table('tenant_settings')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_work_id'))
        batch_op.drop_index(batch_op.f('ix_decision_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_decision_created_at'))

    op.drop_table('decision')
