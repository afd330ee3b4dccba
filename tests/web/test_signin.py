"""Signing in to the dashboard by a code sent by SMS, as an organiser and as a stranger would notice it."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from sms_board.app import board_of
from sms_board.clock.jobs import tick
from sms_board.dashboard.signin import Outcome, check_code, request_code
from sms_board.models import LoginCode, Outbox, WebSession
from sms_board.plumbing.utc import utcnow
from sms_board.sending.sender import drain
from tests.conftest import app_config, session_of
from tests.support.statements import counting
from tests.support.web import ask_for_code, csrf_token, enter_code, last_code, sign_in, submit

RUTH, SAM, NOBODY, ADMIN = "+447700900001", "+447700900123", "+447700900555", "+447700900002"
OPTED_OUT = "+447700900124"


@pytest.fixture
def organiser(areas, runner, phone):
    runner("organiser", "add", RUTH, "elm")
    phone(SAM).text("JOIN ELM")


def code_texts(app, number: str) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(
            select(Outbox).where(Outbox.to_number == number, Outbox.body.like("%sign-in code%")).order_by(Outbox.id)))


def test_an_organiser_is_texted_a_code_in_the_first_lane_and_signs_in(app, client, organiser):
    asked = ask_for_code(client, "07700 900001")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/login/code")
    [text] = code_texts(app, RUTH)
    assert text.kind == "notify" and text.lane == 0 and text.status == "queued"
    assert text.body.startswith("Your sms-board sign-in code is ") and "10 minutes" in text.body

    entered = enter_code(client, last_code(client, RUTH))
    assert entered.status_code == 302 and entered.headers["Location"] == "/dashboard"
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Overview" in page and "Elm Street" in page


def test_a_code_goes_at_once_even_in_quiet_hours(db, tmp_path, areas, runner):
    from sms_board import create_app

    night = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="00:00-23:59"))
    runner("organiser", "add", RUTH, "elm")
    ask_for_code(night.test_client(), RUTH)
    [text] = code_texts(night, RUTH)
    assert text.status == "queued" and text.send_after is None and text.lane == 0


def test_a_stranger_gets_the_same_answer_and_no_text(app, client, organiser):
    def answer(number: str) -> tuple[int, str, str]:
        fresh = app.test_client()
        asked = ask_for_code(fresh, number)
        page = fresh.get(asked.headers["Location"]).get_data(as_text=True)
        page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
        return asked.status_code, asked.headers["Location"], page.replace(number[-3:], "XXX")

    assert answer(RUTH) == answer(NOBODY) == answer(SAM)
    assert code_texts(app, NOBODY) == [] and code_texts(app, SAM) == []


def test_asking_for_a_code_runs_the_same_statements_for_every_number(app, organiser, runner, phone):
    """What the database is asked must not tell an organiser's number from anyone else's (timing, load)."""
    runner("admin", "add", ADMIN)
    phone(OPTED_OUT).text("JOIN ELM")
    phone(OPTED_OUT).text("STOP")
    ask_for_code(app.test_client(), "+447700900999")  # the first request may load more (templates, the CSRF token)
    work = {}
    for number in (RUTH, ADMIN, SAM, OPTED_OUT, NOBODY):
        client = app.test_client()
        with counting(app) as log:
            assert ask_for_code(client, number).status_code == 302
        work[number] = log
    statements = [work[number].statements for number in (RUTH, ADMIN, SAM, OPTED_OUT, NOBODY)]
    assert all(these == statements[0] for these in statements), {n: log.kinds() for n, log in work.items()}
    assert "INSERT INTO outbox" in work[NOBODY].kinds(), "the stranger's request runs the statement that texts"
    assert len(code_texts(app, RUTH)) == len(code_texts(app, ADMIN)) == 1
    assert code_texts(app, SAM) == code_texts(app, OPTED_OUT) == code_texts(app, NOBODY) == []
    with session_of(app) as session:
        rows = session.scalars(select(LoginCode).order_by(LoginCode.id)).all()[1:]
        assert [row.code_hash is not None for row in rows] == [True, True, False, False, False], \
            "only a number that was texted a code has one that could work"


def test_only_the_newest_code_for_a_number_works(app, organiser):
    first, second = app.test_client(), app.test_client()
    ask_for_code(first, RUTH)
    older = last_code(first, RUTH)
    ask_for_code(second, RUTH)
    newer = last_code(second, RUTH)
    refused = enter_code(first, older)
    assert refused.status_code == 400 and "A newer code has been sent" in refused.get_data(as_text=True)
    assert first.get("/dashboard").status_code == 302
    assert enter_code(second, newer).headers["Location"] == "/dashboard"
    assert enter_code(first, older).status_code == 400, "nor once the newer one is used"


def test_a_stranger_never_gets_in_whatever_code_they_type(app, client, organiser):
    ask_for_code(client, SAM)
    for guess in ("000000", "123456", "999999"):
        refused = enter_code(client, guess)
        assert refused.status_code == 400 and "That code is not right" in refused.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_codes_are_kept_hashed_and_blanked_in_the_outbox_once_used(app, client, organiser):
    ask_for_code(client, RUTH)
    code = last_code(client, RUTH)
    with session_of(app) as session:
        row = session.scalars(select(LoginCode)).one()
        assert code not in (row.code_hash or "") and len(row.code_hash or "") == 64
        assert RUTH not in row.number_hash
    board = board_of(app)
    drain(board.sessions, board.transport, board.settings)
    enter_code(client, code)
    tick(board.sessions, board.settings, utcnow())
    [text] = code_texts(app, RUTH)
    assert code not in text.body and "******" in text.body


def test_five_wrong_tries_lock_the_code(app, client, organiser):
    ask_for_code(client, RUTH)
    code = last_code(client, RUTH)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        assert f"{left} more tr" in enter_code(client, wrong).get_data(as_text=True)
    assert "Too many wrong tries" in enter_code(client, wrong).get_data(as_text=True)
    assert "Too many wrong tries" in enter_code(client, code).get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_twenty_wrong_guesses_at_once_still_lock_the_code_after_five(app, client, organiser):
    ask_for_code(client, RUTH)
    code = last_code(client, RUTH)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    cookie = client.get_cookie("sms_board_session").value
    guessers = []
    for _ in range(20):
        guesser = app.test_client()
        guesser.set_cookie("sms_board_session", cookie)
        guessers.append((guesser, csrf_token(guesser, "/login/code")))
    together = threading.Barrier(len(guessers))

    def guess(guesser, token) -> str:  # type: ignore[no-untyped-def]
        together.wait()
        return guesser.post("/login/code", data={"csrf_token": token, "code": wrong}).get_data(as_text=True)

    with ThreadPoolExecutor(len(guessers)) as pool:
        pages = list(pool.map(lambda pair: guess(*pair), guessers))
    assert sum("more tr" in page for page in pages) == 4
    assert sum("Too many wrong tries" in page for page in pages) == 16
    with session_of(app) as session:
        row = session.scalars(select(LoginCode)).one()
        assert row.wrong_tries == 5 and row.locked_at is not None
    assert "Too many wrong tries" in enter_code(client, code).get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_a_code_expires_after_ten_minutes(app, client, organiser):
    with time_machine.travel(utcnow(), tick=False) as clock:
        ask_for_code(client, RUTH)
        code = last_code(client, RUTH)
        clock.shift(timedelta(minutes=10, seconds=1))
        refused = enter_code(client, code)
    assert refused.status_code == 400 and "That code has expired" in refused.get_data(as_text=True)


def test_a_code_works_once(app, organiser):
    board = board_of(app)
    now = utcnow()
    with board.sessions.begin() as session:
        request = request_code(session, board.settings, RUTH, "127.0.0.1", now)
    code = last_code(app.test_client(), RUTH)
    with board.sessions.begin() as session:
        assert check_code(session, board.settings, request.request_id, code, now).outcome == Outcome.SIGNED_IN
    with board.sessions.begin() as session:
        assert check_code(session, board.settings, request.request_id, code, now).outcome == Outcome.USED


def test_requests_are_limited_per_number_for_organisers_and_strangers_alike(app, organiser):
    for number in (RUTH, NOBODY):
        client = app.test_client()
        for _ in range(3):
            assert ask_for_code(client, number).status_code == 302
        limited = ask_for_code(client, number)
        assert limited.status_code == 429 and "Too many codes" in limited.get_data(as_text=True)
    assert len(code_texts(app, RUTH)) == 3


def test_requests_are_limited_per_address(app, organiser):
    client = app.test_client()
    address = {"environ_base": {"REMOTE_ADDR": "192.0.2.7"}}
    for n in range(20):
        assert ask_for_code(client, f"+4477009006{n:02d}", **address).status_code == 302
    assert ask_for_code(client, "+447700900690", **address).status_code == 429
    assert ask_for_code(client, "+447700900690", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 302


def test_signing_out_ends_the_session_even_for_a_copied_cookie(app, client, organiser):
    sign_in(client, RUTH)
    cookie = client.get_cookie("sms_board_session")
    thief = app.test_client()
    thief.set_cookie("sms_board_session", cookie.value)
    assert thief.get("/dashboard").status_code == 200
    submit(client, "/dashboard", "/logout", {})
    assert thief.get("/dashboard").status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_a_session_ends_after_two_idle_hours_and_twelve_at_most(app, client, organiser):
    with time_machine.travel(utcnow(), tick=False) as clock:
        sign_in(client, RUTH)
        for _ in range(6):
            clock.shift(timedelta(hours=1, minutes=50))
            assert client.get("/dashboard").status_code == 200
        clock.shift(timedelta(hours=1, minutes=30))  # 12 h 30 after signing in
        assert client.get("/dashboard").status_code == 302
    with time_machine.travel(utcnow(), tick=False) as clock:
        sign_in(client, RUTH)
        clock.shift(timedelta(hours=2, minutes=1))
        assert client.get("/dashboard/inbox").headers["Location"].startswith("/login?next=/dashboard/inbox")


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(app, client, organiser, db, tmp_path):
    signed = sign_in(client, RUTH)
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie

    from sms_board import create_app

    plain = create_app(app_config(db, tmp_path, SMS_BOARD_PUBLIC_URL=None)).test_client()
    assert "Secure" not in ask_for_code(plain, RUTH).headers["Set-Cookie"]


def test_a_removed_organiser_is_out_at_the_next_click(app, client, organiser, runner):
    sign_in(client, RUTH)
    with session_of(app) as session:
        assert session.scalars(select(WebSession)).one().ended_at is None
    admin = app.test_client()
    runner("admin", "add", ADMIN)
    sign_in(admin, ADMIN)
    with session_of(app) as session:
        ruth_id = session.scalar(select(WebSession.subscriber_id).order_by(WebSession.id))
    removed = submit(admin, "/dashboard/admin", f"/dashboard/admin/organisers/{ruth_id}/elm/remove", {})
    assert removed.status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_a_form_without_a_csrf_token_is_refused(app, client, organiser):
    refused = client.post("/login", data={"number": RUTH})
    assert refused.status_code == 400 and "could not be accepted" in refused.get_data(as_text=True)
    assert code_texts(app, RUTH) == []


def test_after_sign_in_only_a_path_on_this_board_is_followed(app, client, organiser):
    page = client.get("/dashboard/subscribers?digits=123")
    assert page.headers["Location"] == "/login?next=/dashboard/subscribers?digits%3D123"
    token_page = "/login?next=//evil.example/"
    submit(client, token_page, "/login", {"number": RUTH, "next": "//evil.example/"})
    entered = enter_code(client, last_code(client, RUTH))
    assert entered.headers["Location"] == "/dashboard"


def test_an_organiser_who_forgets_their_number_is_signed_out_and_erased(app, client, organiser, phone):
    sign_in(client, RUTH)
    ruth = phone(RUTH)
    ruth.text("FORGET")
    ruth.text("YES")
    assert client.get("/dashboard").status_code == 302
    with session_of(app) as session:
        assert session.scalars(select(WebSession)).all() == []
        assert session.scalars(select(LoginCode).where(LoginCode.subscriber_id.is_not(None))).all() == []
