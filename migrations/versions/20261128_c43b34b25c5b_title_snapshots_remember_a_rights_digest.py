"""title snapshots remember a rights digest

Revision ID: c43b34b25c5b
Revises: 9a24e0b5adf3
Create Date: 2026-11-28 23:26:02.401296

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c43b34b25c5b'
down_revision = '9a24e0b5adf3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('title_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rights_digest', sa.String(length=32), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('title_snapshot', schema=None) as batch_op:
        batch_op.drop_column('rights_digest')

