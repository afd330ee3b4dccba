"""A resident's text is shown in the order it was typed: right-to-left overrides never reach a screen.

`please refund \\u202e0001\\u202c pounds` is shown by a browser (or a terminal) as "please refund
1000 pounds". Posts and names are stored without such controls; an inbound text is stored
exactly as it came, so every page and every command that shows words people wrote leaves the
controls out when it shows them. Every page is tried, read from the app's URL map.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from sms_board.models import AuditEntry, Exchange, InboundMessage, Item, Outbox
from tests.conftest import development_board, session_of
from tests.support.web import sign_in, submit, text_message

ADMIN, SAM, PRIYA = "+447700900002", "+447700900123", "+447700900456"
REFUND = "please refund \u202e0001\u202c pounds"
# Every bidirectional formatting character: embeddings, overrides, isolates and marks.
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
TRICK = "fix \u2067the\u2069 \u202dgate\u202c \u200f\u061c\u200e\u202a\u202b\u2066\u2068now\u2069"


@pytest.fixture
def app(db, tmp_path):  # type: ignore[no-untyped-def]
    """A development board, so that the simulator's thread is one of the pages shown."""
    return development_board(db, tmp_path)


@pytest.fixture
def tricked(client, areas, runner, phone, app):
    """Texts, posts, an exchange and an audit row that hold bidi controls (rows kept from before
    the board cleaned them, and what an organiser typed on a form), and an administrator signed in."""
    runner("admin", "add", ADMIN)
    sam, priya = phone(SAM), phone(PRIYA)
    for person, name in ((sam, "Sam"), (priya, "Priya")):
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    sam.text(REFUND)
    ref = re.search(r"#(R\d+)", sam.text("NEED a ladder")[0]).group(1)  # type: ignore[union-attr]
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sam.text(f"DONE {ref} 1")
    held = re.search(r"#(N\d+)", sam.text("POST lost cat")[0]).group(1)  # type: ignore[union-attr]
    with session_of(app) as session, session.begin():
        session.execute(update(Item).values(body=TRICK, author_name="S\u202eam"))
        session.execute(update(Exchange).values(description=TRICK))
    sign_in(client, ADMIN)
    priya.text(f"REPORT {held} {TRICK}")
    return client


def test_the_inbox_shows_a_refund_text_in_the_order_it_was_typed_and_stores_it_as_it_came(tricked, app):
    page = tricked.get("/dashboard/inbox").get_data(as_text=True)
    assert "please refund 0001 pounds" in page
    assert not BIDI.search(page)
    with session_of(app) as session:
        bodies = list(session.scalars(select(InboundMessage.body)))
    assert REFUND in bodies


def test_no_page_shows_a_bidi_control(tricked, app):
    board = tricked.get("/board/elm").get_data(as_text=True)
    assert "fix the gate now" in board and not BIDI.search(board)
    decided = submit(tricked, "/dashboard/moderation", f"/dashboard/moderation/{_an_item(app)}",
                     {"decision": "reject", "reason": f"no {TRICK}"})
    assert decided.status_code == 302
    with session_of(app) as session:
        assert any(BIDI.search(json.dumps(row.detail, ensure_ascii=False))
                   for row in session.scalars(select(AuditEntry)))  # what the organiser typed, kept
    pages = [rule.rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"]
    pages += ["/board/elm", f"/simulator?from={SAM}", "/dashboard/exchange?area=elm"]
    shown = {page: tricked.get(page) for page in pages}
    for page, answer in shown.items():
        assert answer.status_code in (200, 302), (page, answer.status_code)
        if answer.mimetype == "application/pdf":  # the Reports page's PDF: its text, read back
            assert not BIDI.search("".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.data)).pages)), page
            continue
        assert not BIDI.search(answer.get_data(as_text=True)), page
    assert "fix the gate now" in shown["/dashboard/exchange"].get_data(as_text=True)
    assert "please refund 0001 pounds" in shown[f"/simulator?from={SAM}"].get_data(as_text=True)


def _an_item(app) -> int:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalar(select(Item.id).where(Item.kind == "notice"))  # type: ignore[no-any-return]


def test_the_simulator_shows_what_was_typed_without_the_override(areas, client):
    sent = text_message(client, SAM, REFUND)
    thread = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "please refund 0001 pounds" in thread and not BIDI.search(thread)


def test_commands_that_show_residents_words_leave_the_controls_out(tricked, runner, app):
    with session_of(app) as session, session.begin():
        session.execute(update(AuditEntry).values(detail={"reason": TRICK}))
    outputs = {
        "audit": runner("audit").stdout,
        "outbox": runner("outbox").stdout,
        "simulate": runner("simulate", PRIYA, f"NEED {REFUND}").stdout,
        "consent": runner("consent", SAM).stdout,
    }
    for command, output in outputs.items():
        assert not BIDI.search(output), command
    assert "fix the gate now" in outputs["audit"]
    assert not BIDI.search(runner("outbox", "--json").stdout)
    written = runner("audit", "--json").stdout
    assert not BIDI.search(written) and json.loads(written)[0]["detail"]["reason"] == TRICK  # escaped, not lost


def test_texts_the_board_sends_quoting_residents_leave_the_controls_out(areas, runner, phone, app):
    """A phone shows `\\u202e0001` as 1000 as a browser does: the organiser's alert about an urgent
    text, and a relay between neighbours, carry the words in the order they were typed."""
    runner("organiser", "add", "+447700900001", "elm")
    sam, priya = phone(SAM), phone(PRIYA)
    for person in (sam, priya):
        person.text("JOIN ELM")
    sam.text(f"I've fallen, {REFUND}")
    ref = re.search(r"#(R\d+)", sam.text("NEED a ladder")[0]).group(1)  # type: ignore[union-attr]
    priya.text(f"CAN {ref}")
    sam.text(f"OK {ref}")
    sam.text(f"{ref} {REFUND}")

    [alert] = [row.body for row in phone("+447700900001").received() if "texted" in row.body]
    assert "please refund 0001 pounds" in alert and not BIDI.search(alert)
    [relayed] = [row.body for row in priya.received() if "refund" in row.body]
    assert "please refund 0001 pounds" in relayed and not BIDI.search(relayed)
    with session_of(app) as session:
        sent = list(session.scalars(select(Outbox.body)))
    assert not any(BIDI.search(body) for body in sent)
