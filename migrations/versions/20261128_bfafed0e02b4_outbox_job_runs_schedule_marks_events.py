"""outbox, job runs, schedule marks, processed events

Revision ID: bfafed0e02b4
Revises: 06adeb299df5
Create Date: 2026-11-28 22:48:03.943575

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bfafed0e02b4'
down_revision = '06adeb299df5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=128), nullable=False),
    sa.Column('job_id', sa.String(length=128), nullable=True),
    sa.Column('dedupe_key', sa.String(length=255), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_job_run_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_run_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('outbox_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by', sa.String(length=64), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_outbox_entry_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_entry')),
    sa.UniqueConstraint('tenant_id', 'dedupe_key', name='uq_outbox_entry_tenant_id_dedupe_key')
    )
    with op.batch_alter_table('outbox_entry', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_entry_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_entry_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('processed_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('event_key', sa.String(length=255), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_processed_event_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processed_event')),
    sa.UniqueConstraint('tenant_id', 'source', 'event_key', name='uq_processed_event_tenant_id_source_event_key')
    )
    with op.batch_alter_table('processed_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_event_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_processed_event_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('schedule_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('period_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_schedule_mark_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_mark')),
    sa.UniqueConstraint('tenant_id', 'kind', 'period_key', name='uq_schedule_mark_tenant_id_kind_period_key')
    )
    with op.batch_alter_table('schedule_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_mark_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_schedule_mark_tenant_id'), ['tenant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('schedule_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_mark_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_schedule_mark_created_at'))

    op.drop_table('schedule_mark')
    with op.batch_alter_table('processed_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_event_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_processed_event_received_at'))

    op.drop_table('processed_event')
    with op.batch_alter_table('outbox_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_entry_tenant_id'))
        batch_op.drop_index('ix_outbox_entry_status_next_attempt_at')

    op.drop_table('outbox_entry')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_job_run_started_at'))

    op.drop_table('job_run')
