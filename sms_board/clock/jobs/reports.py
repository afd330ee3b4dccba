"""The monthly report: a month's figures are kept four days after it ends; organisers hear of it on the 1st."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from sms_board.clock.jobs import due_job
from sms_board.community.monthly_report import keep_due_month
from sms_board.community.report_texts import text_organisers
from sms_board.plumbing.config import Settings


@due_job("report_snapshots", order=92)
def report_snapshots(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with factory.begin() as session:
        return keep_due_month(session, settings, now)


@due_job("report_texts", order=94)
def report_texts(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with factory.begin() as session:
        return text_organisers(session, settings, now)
