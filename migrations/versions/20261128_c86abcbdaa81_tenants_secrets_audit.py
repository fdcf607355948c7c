"""tenants, secrets, audit

Revision ID: c86abcbdaa81
Revises: 
Create Date: 2026-11-28 22:36:42.667162

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c86abcbdaa81'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tenant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('cloud_id', sa.String(length=255), nullable=True),
    sa.Column('site_url', sa.String(length=500), nullable=True),
    sa.Column('api_base_url', sa.String(length=500), nullable=True),
    sa.Column('display_url', sa.String(length=500), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('installed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uninstalled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant')),
    sa.UniqueConstraint('transport', 'external_id', name='uq_tenant_transport_external_id')
    )
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_audit_entry_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tenant_secret',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('ciphertext', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_tenant_secret_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_secret')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_tenant_secret_tenant_id_name')
    )
    with op.batch_alter_table('tenant_secret', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_secret_tenant_id'), ['tenant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('tenant_secret', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_secret_tenant_id'))

    op.drop_table('tenant_secret')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))

    op.drop_table('audit_entry')
    op.drop_table('tenant')
