"""The organisers' voice messages (key 0 on a call), on the inbox page: who may hear which, and the audio.

Who may hear one is who may read a text filed to no area (`community.inbox.visible_to`): an
administrator, or an organiser of an area the caller is in, or any organiser when the caller is in
none. The audio is fetched from Twilio by the board for each play (`voice.recordings.audio`): no
page ever holds a Twilio address, and a deleted one (FORGET, retention) is gone from the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from sms_board.dashboard.scope import Viewer
from sms_board.models import Subscriber, Subscription, VoiceMessage
from sms_board.text.phone import mask

SHOWN = 20


@dataclass(frozen=True)
class VoiceEntry:
    id: int
    caller: str  # masked
    name: str | None
    left_at: datetime
    seconds: int | None
    dealt_with_at: datetime | None


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.is_admin:
        return true()
    member_of_mine = exists().where(Subscription.subscriber_id == VoiceMessage.subscriber_id,
                                    Subscription.area_id.in_(viewer.area_ids))
    member_anywhere = exists().where(Subscription.subscriber_id == VoiceMessage.subscriber_id)
    return or_(member_of_mine, ~member_anywhere)


def _kept() -> ColumnElement[bool]:
    return and_(VoiceMessage.deleted_at.is_(None), VoiceMessage.erase_requested_at.is_(None))


def waiting(viewer: Viewer) -> list[ColumnElement[bool]]:
    """The voice messages this organiser may hear and nobody has dealt with (the inbox's "to deal with")."""
    return [_kept(), _visible(viewer), VoiceMessage.dealt_with_at.is_(None)]


def voice_inbox(session: Session, viewer: Viewer, *, show_all: bool = False) -> list[VoiceEntry]:
    """The newest voice messages this organiser may hear: those not dealt with, or (`show_all`) every one."""
    query = (select(VoiceMessage, Subscriber.name).outerjoin(Subscriber, Subscriber.id == VoiceMessage.subscriber_id)
             .where(_kept(), _visible(viewer)).order_by(VoiceMessage.id.desc()).limit(SHOWN))
    if not show_all:
        query = query.where(VoiceMessage.dealt_with_at.is_(None))
    return [VoiceEntry(message.id, mask(message.from_number), name, message.created_at, message.duration,
                       message.dealt_with_at)
            for message, name in session.execute(query).all()]


def mark_voice_dealt_with(session: Session, viewer: Viewer, message_id: int, now: datetime, *,
                          undo: bool = False) -> bool:
    """Mark a voice message dealt with (or back); False when this organiser may not hear it."""
    message = voice_message(session, viewer, message_id)
    if message is None:
        return False
    message.dealt_with_at = None if undo else now
    return True


def voice_message(session: Session, viewer: Viewer, message_id: int) -> VoiceMessage | None:
    """The message `message_id`, if this organiser may hear it and it is still kept."""
    return session.scalar(select(VoiceMessage).where(VoiceMessage.id == message_id, _kept(), _visible(viewer)))
