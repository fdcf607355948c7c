"""title snapshots say whether a page set is owed; poll state remembers what the first sync did

Revision ID: 5e1f0c7a9b21
Revises: c43b34b25c5b
Create Date: 2026-12-04 20:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5e1f0c7a9b21"
down_revision = "c43b34b25c5b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("title_snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pages_owed", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Until now every managed title was owed its page set.
    op.execute("UPDATE title_snapshot SET pages_owed = tracked")
    with op.batch_alter_table("flow_poll_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_sync", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("flow_poll_state", schema=None) as batch_op:
        batch_op.drop_column("first_sync")
    with op.batch_alter_table("title_snapshot", schema=None) as batch_op:
        batch_op.drop_column("pages_owed")
