"""A decision someone recorded (button or Decision log page), with its delivery state.

The idempotency key is unique per tenant: a double-click, a retried request or a re-delivered
page event finds the existing decision instead of making a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from addon.extensions import Model
from addon.platform.models import TenantOwned, utcnow

APPROVE_STAGE = "approve_stage"
REQUEST_CHANGES = "request_changes"
HOLD = "hold"
NOTE = "note"
DECISION_TYPES = (APPROVE_STAGE, REQUEST_CHANGES, HOLD, NOTE)
NOT_SENT = "not_sent"  # delivery state: kept in Confluence only, this Consonance does not accept the write


@dataclass(frozen=True)
class DecisionLabel:
    """How a kind of decision reads: as a choice on the panel's form, and once made (notes, Decision log)."""

    choice: str
    recorded: str


# The one wording of each decision kind: the panel's choices, Consonance's notes and the Decision log use it.
DECISION_LABELS = {
    APPROVE_STAGE: DecisionLabel("Approve stage", "Stage approved"),
    REQUEST_CHANGES: DecisionLabel("Request changes", "Changes requested"),
    HOLD: DecisionLabel("Hold", "On hold"),
    NOTE: DecisionLabel("Note", "Note"),
}


class Decision(TenantOwned, Model):
    __tablename__ = "decision"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_decision_tenant_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(128))
    work_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    decision_type: Mapped[str] = mapped_column(sa.String(32))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    actor: Mapped[str | None] = mapped_column(sa.String(255))  # Atlassian account id
    source: Mapped[str] = mapped_column(sa.String(32), default="macro")  # macro | decision-log
    source_page_id: Mapped[str | None] = mapped_column(sa.String(32))
    from_stage: Mapped[str | None] = mapped_column(sa.String(100))
    to_stage: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    delivery_state: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending|delivered|failed|not_sent
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
