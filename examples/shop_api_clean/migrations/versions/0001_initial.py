"""Create the items and orders tables."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("total_cents", sa.Integer, nullable=False),
        sa.Column("discount_cents", sa.Integer, nullable=False),
        sa.Column("card_token", sa.String, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("orders")
    op.drop_table("items")
