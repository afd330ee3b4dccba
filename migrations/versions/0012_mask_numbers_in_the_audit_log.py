"""the audit log keeps no full phone number: mask those already in its rows

Until now a row kept what an organiser typed as it was typed: a broadcast's first 80
characters ("call Sam on 07700 900123"), a reason, a file name. Rows are now masked as
they are written (`community.audit.record`); this masks the rows written before, in
every string of `detail` and in `actor`, with the board's one masking function (imported,
not copied: a second copy is how the board came to have two that disagreed). A
broadcast's words were cut at 80 characters after they were stored, so a number can
have been cut in two: the part left at the very end of a cut text is masked too.
No downgrade: the full numbers are not kept anywhere to put back.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

from sms_board.text.phone import mask_numbers

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 1000
CUT_AT = 80  # broadcasts.py kept this many characters of a broadcast's words
# The start of a number (a `+`, `%2B`, or a national 0) running to the end of a cut text.
_CUT_NUMBER = re.compile(r"(?:\+|%2B|(?<![\w.,:])0)[\d ()+.%-]*$", re.IGNORECASE)

audit_log = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("actor", sa.String),
                     sa.column("detail", sa.JSON))


def _masked(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    masked = mask_numbers(value)
    cut = _CUT_NUMBER.search(masked) if key == "text" and len(value) >= CUT_AT else None
    if cut and sum(ch.isdigit() for ch in cut.group()) >= 4:
        masked = masked[:cut.start()] + "•••"
    return masked


def upgrade() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(audit_log.c.id, audit_log.c.actor, audit_log.c.detail)
            .where(audit_log.c.id > last).order_by(audit_log.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, actor, detail in rows:
            new_actor = mask_numbers(actor)
            new_detail = {key: _masked(key, value) for key, value in (detail or {}).items()}
            if new_actor != actor or new_detail != (detail or {}):
                bind.execute(audit_log.update().where(audit_log.c.id == row_id)
                             .values(actor=new_actor[:60], detail=new_detail))
        last = rows[-1][0]


def downgrade() -> None:
    pass
