"""The board's data: typed SQLAlchemy 2 models, one module per part of the board.

Models know nothing of Flask, handlers or sending. Times are stored as naive
UTC and come back timezone-aware (`UTCDateTime`), the same on SQLite and
PostgreSQL. Every name is importable from `sms_board.models`; the modules say
which part of the board a table belongs to.
"""

from __future__ import annotations

from sms_board.models.access import (
    AuditAction,
    AuditEntry,
    LoginCode,
    SubscriberSearch,
    WebSession,
)
from sms_board.models.base import (
    NAMING,
    Base,
    Named,
    UTCDateTime,
    one_of,
)
from sms_board.models.broadcasting import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    DigestBatch,
)
from sms_board.models.items import (
    Confirmation,
    ConfirmationResolution,
    Exchange,
    Invite,
    InviteAttempt,
    InviteOutcome,
    Item,
    ItemEvent,
    ItemEventAction,
    ItemKind,
    ItemStatus,
    Match,
    MatchStatus,
    NoticeKind,
    OrganiserNotice,
    Report,
    ReportResolution,
    Response,
    ResponseKind,
    ResponseStatus,
)
from sms_board.models.messaging import (
    Heartbeat,
    InboundMessage,
    InboundStatus,
    Outbox,
    OutboxKind,
    OutboxLane,
    OutboxStatus,
    SenderState,
)
from sms_board.models.residents import (
    Area,
    AreaPostcode,
    ConsentAction,
    ConsentEvent,
    Moderation,
    Organiser,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
)

__all__ = [
    "NAMING",
    "Area",
    "AreaPostcode",
    "AuditAction",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "Confirmation",
    "ConfirmationResolution",
    "ConsentAction",
    "ConsentEvent",
    "DigestBatch",
    "Exchange",
    "Heartbeat",
    "InboundMessage",
    "InboundStatus",
    "Invite",
    "InviteAttempt",
    "InviteOutcome",
    "Item",
    "ItemEvent",
    "ItemEventAction",
    "ItemKind",
    "ItemStatus",
    "LoginCode",
    "Match",
    "MatchStatus",
    "Moderation",
    "Named",
    "NoticeKind",
    "Organiser",
    "OrganiserNotice",
    "Outbox",
    "OutboxKind",
    "OutboxLane",
    "OutboxStatus",
    "Report",
    "ReportResolution",
    "Response",
    "ResponseKind",
    "ResponseStatus",
    "SenderState",
    "Subscriber",
    "SubscriberSearch",
    "Subscription",
    "SubscriptionStatus",
    "Suppression",
    "UTCDateTime",
    "WebSession",
    "one_of",
]
