"""flows: title snapshots, poll state, sync pages (issue 6)

Revision ID: 76bae01f8dea
Revises: bfafed0e02b4
Create Date: 2026-11-28 23:01:07.261081

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '76bae01f8dea'
down_revision = 'bfafed0e02b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('flow_poll_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('baseline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_poll_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('works_seen', sa.Integer(), nullable=False),
    sa.Column('mappings_digest', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_flow_poll_state_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_poll_state')),
    sa.UniqueConstraint('tenant_id', name='uq_flow_poll_state_tenant')
    )
    with op.batch_alter_table('flow_poll_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_poll_state_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('flow_sync_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('page_id', sa.String(length=32), nullable=False),
    sa.Column('attachment_digest', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_flow_sync_page_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_sync_page')),
    sa.UniqueConstraint('tenant_id', 'kind', 'key', name='uq_flow_sync_page_tenant_kind_key')
    )
    with op.batch_alter_table('flow_sync_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_sync_page_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('title_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_id', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('stage', sa.String(length=100), nullable=True),
    sa.Column('season', sa.String(length=100), nullable=True),
    sa.Column('dates_digest', sa.String(length=32), nullable=False),
    sa.Column('readiness_digest', sa.String(length=32), nullable=False),
    sa.Column('tracked', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_title_snapshot_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_title_snapshot')),
    sa.UniqueConstraint('tenant_id', 'work_id', name='uq_title_snapshot_tenant_work')
    )
    with op.batch_alter_table('title_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_title_snapshot_tenant_id'), ['tenant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('title_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_title_snapshot_tenant_id'))

    op.drop_table('title_snapshot')
    with op.batch_alter_table('flow_sync_page', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_sync_page_tenant_id'))

    op.drop_table('flow_sync_page')
    with op.batch_alter_table('flow_poll_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_poll_state_tenant_id'))

    op.drop_table('flow_poll_state')
