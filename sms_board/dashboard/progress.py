"""A broadcast's delivery, counted from its outbox rows by status (one grouped statement)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_board.models import Campaign, CampaignStatus, Outbox, OutboxStatus

S = OutboxStatus
# What an organiser watching a broadcast wants to tell apart.
GROUPS = {
    "waiting": (S.HELD, S.QUEUED),
    "sending": (S.SENDING,),
    "sent": (S.SENT,),
    "delivered": (S.DELIVERED,),
    "failed": (S.FAILED, S.UNDELIVERED),
    "unknown": (S.UNKNOWN,),
    "cancelled": (S.CANCELLED,),
}
FINISHED = (CampaignStatus.DONE.value, CampaignStatus.CANCELLED.value)


@dataclass(frozen=True)
class Progress:
    campaign_id: int
    status: str
    audience: int
    written: int
    counts: dict[str, int]
    note: str | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def as_json(self) -> dict[str, object]:
        return {"campaign_id": self.campaign_id, "status": self.status, "audience": self.audience,
                "written": self.written, "counts": self.counts, "finished": self.finished, "note": self.note}


def progress(session: Session, campaign: Campaign) -> Progress:
    by_status = dict(session.execute(
        select(Outbox.status, func.count()).where(Outbox.campaign_id == campaign.id).group_by(Outbox.status)
    ).all())
    counts = {name: sum(by_status.get(s.value, 0) for s in statuses) for name, statuses in GROUPS.items()}
    return Progress(campaign.id, campaign.status, campaign.audience or 0, sum(by_status.values()), counts,
                    campaign.note)
