"""The real web app under gunicorn, sent Twilio's webhooks over real HTTP: duplicated, cut off, forged, oversized.

Webhooks are signed with the real `twilio.request_validator.RequestValidator` for
`SMS_BOARD_PUBLIC_URL + path`, as Twilio signs them. What counts is what a
resident would notice: a text answered twice or acted on twice, a text never
acted on, a forged text that changes something.
"""

from __future__ import annotations

import base64
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import func, select, text

from sms_board.models import (
    ConsentEvent,
    InboundMessage,
    Item,
    Outbox,
    Response,
    Subscriber,
    Subscription,
)

from .outbox import queue_texts
from .procs import ACCOUNT_SID, Twilio, drama_number, sign, text_params, twiml_messages, wait_for
from .rig import SCALE, TIME_LIMIT, Rig

pytestmark = [pytest.mark.faults, pytest.mark.timeout(TIME_LIMIT)]

SIXTY_FOUR_KB = 64 * 1024


def street(rig: Rig) -> Twilio:
    """The web app running, one area to join; returns Twilio's side of the webhooks."""
    rig.web()
    rig.cli("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    return rig.twilio()


def inbound_rows(rig: Rig, sid: str) -> list[InboundMessage]:
    with rig.sessions() as session:
        return list(session.scalars(select(InboundMessage).where(InboundMessage.message_sid == sid)))


def count(rig: Rig, model: type, *where: object) -> int:
    with rig.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def subscriber_id(rig: Rig, number: str) -> int:
    with rig.sessions() as session:
        found = session.scalar(select(Subscriber.id).where(Subscriber.phone == number))
        assert found is not None, f"{number} is not a subscriber"
        return found


def snapshot(rig: Rig) -> dict[str, str]:
    """Every row of every table, as text: two equal snapshots mean nothing changed."""
    from sms_board.models import Base

    found = {}
    for table in Base.metadata.sorted_tables:
        found[table.name] = rig.schema.scalar(
            f"SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]'::jsonb)::text FROM {table.name} t")
    return found


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


# ── 1. the same MessageSid, many times, at once ────────────────────────────


def deliver_copies(twilio: Twilio, params: dict[str, str], copies: int, at_once: int) -> list[list[str]]:
    """Post the very same webhook `copies` times, `at_once` side by side; returns the replies of each."""
    start = threading.Barrier(at_once)

    def one(n: int) -> list[str]:
        if n < at_once:
            start.wait(timeout=10)  # the first wave leaves together
        answer = twilio.text(params, timeout=30)
        assert answer.status_code == 200, (answer.status_code, answer.text[:200])
        return twiml_messages(answer.content)

    with ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(one, range(copies)))


def test_one_message_sid_posted_a_hundred_times_acts_once_and_answers_alike(rig: Rig, note):
    twilio = street(rig)
    sam, priya = drama_number(101), drama_number(102)
    copies, at_once = SCALE.duplicate_copies, SCALE.duplicate_at_once
    twilio.text(text_params(priya, "JOIN ELM"))
    twilio.text(text_params(priya, "NAME Priya"))

    measured: dict[str, dict[str, int]] = {}

    def check(params: dict[str, str], effect: Callable[[], int], what: str) -> None:
        answers = deliver_copies(twilio, params, copies, at_once)
        stored = inbound_rows(rig, params["MessageSid"])
        measured[what] = {"rows": len(stored), "effects": effect(), "different_answers": len({repr(a) for a in answers})}
        [row] = stored
        assert row.status == "handled", (what, row.status, row.error)
        assert row.replies, f"{what}: no reply stored"
        different = [a for a in answers if a != row.replies]
        assert different == [], f"{what}: {len(different)} of {copies} answers differ from {row.replies!r}: " \
                                f"{different[:3]!r}"
        assert measured[what]["effects"] == 1, f"{what}: the effect happened {measured[what]['effects']} times"

    def sam_id() -> int:
        return subscriber_id(rig, sam)

    try:
        check(text_params(sam, "JOIN ELM"), lambda: count(
            rig, Subscription, Subscription.subscriber_id == sam_id(), Subscription.status == "active"), "JOIN")
        check(text_params(sam, "POST Lost: ginger cat, answers to Tom"), lambda: count(
            rig, Item, Item.author_id == sam_id(), Item.kind == "notice"), "POST")
        check(text_params(sam, "NEED Help carrying a wardrobe upstairs"), lambda: count(
            rig, Item, Item.author_id == sam_id(), Item.kind == "request"), "NEED")
        with rig.sessions() as session:
            request_id = session.scalar(select(Item.id).where(Item.kind == "request"))
        check(text_params(priya, f"CAN R{request_id}"), lambda: count(
            rig, Response, Response.item_id == request_id, Response.responder_id == subscriber_id(rig, priya)), "CAN")
    finally:
        note(copies_per_text=copies, at_once=at_once, requests=len(measured) * copies,
             **{f"{what}_{k}": v for what, numbers in measured.items() for k, v in numbers.items()})
    # The requester is told once that Priya can help; Sam's consent is recorded once.
    told = count(rig, Outbox, Outbox.to_number == sam, Outbox.kind == "notify")
    subscribed = count(rig, ConsentEvent, ConsentEvent.subscriber_id == sam_id(), ConsentEvent.action == "subscribe")
    note(requester_told=told, consents_recorded=subscribed)
    assert told == 1, f"Sam was told {told} times that a neighbour can help"
    assert subscribed == 1


# ── 2. a web worker SIGKILLed mid-webhook ──────────────────────────────────


def _age(pid: int) -> float:
    """Seconds since the process started (from /proc: a freshly forked worker is still booting)."""
    import os

    with open(f"/proc/{pid}/stat") as stat:
        started = int(stat.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as uptime:
        now = float(uptime.read().split()[0])
    return now - started / os.sysconf("SC_CLK_TCK")


def kill_a_worker_mid_text(rig: Rig, web, timeout: float = 3.0) -> int | None:  # type: ignore[no-untyped-def]
    """Wait for a text stored but not yet routed, and SIGKILL the worker whose database transaction is open then."""
    deadline = time.monotonic() + timeout
    with rig.schema.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as look:
        while time.monotonic() < deadline:
            ports = look.execute(text(
                "SELECT client_port FROM pg_stat_activity WHERE application_name = :name AND xact_start IS NOT NULL "
                "AND EXISTS (SELECT 1 FROM inbound_messages WHERE status = 'received')"),
                {"name": rig.schema.application_name("web")}).scalars().all()
            for port in ports:
                pid = web.worker_of_port(port)
                if pid is not None and web.kill_worker(pid):
                    return pid
    return None


def test_a_web_worker_killed_mid_webhook_loses_no_text_and_doubles_none(rig: Rig, rng: random.Random, note):  # noqa: C901 -- one kill-and-retry scenario, read top to bottom
    twilio = street(rig)
    web = rig.web()
    people = [drama_number(n) for n in range(1, SCALE.webhook_joins + 1)]
    texts = {number: text_params(number, "JOIN ELM") for number in people}
    attempts: dict[str, int] = {}
    final: dict[str, list[str]] = {}
    giving_up = threading.Event()

    def deliver(number: str) -> None:
        """As Twilio does when it gets no answer: the same webhook again, same MessageSid."""
        for attempt in range(1, 41):
            if giving_up.is_set():
                return
            try:
                answer = twilio.text(texts[number], timeout=15)
            except requests.RequestException:
                answer = None
            if answer is not None and answer.status_code == 200:
                attempts[number], final[number] = attempt, twiml_messages(answer.content)
                return
            time.sleep(0.5)
        raise AssertionError(f"no answer for {number} after 40 tries")

    # Half the kills come at a random moment, half just after a text is stored, before it is routed.
    kills = {"random": 0, "aimed": 0}
    batch = max(1, len(people) // SCALE.webhook_kills)
    with ThreadPoolExecutor(8) as pool:
        try:
            for start in range(0, len(people), batch):
                futures = [pool.submit(deliver, number) for number in people[start:start + batch]]
                if sum(kills.values()) < SCALE.webhook_kills:
                    wait_for(lambda: [pid for pid in web.workers() if _age(pid) > 1.5], 20, "a booted gunicorn worker")
                    if rng.random() < 0.5 and kill_a_worker_mid_text(rig, web):
                        kills["aimed"] += 1
                    else:
                        time.sleep(rng.uniform(0.0, 0.25))
                        # Each batch gets its kill: a worker gone in the meantime is no reason to skip it.
                        for _ in range(50):
                            booted = [pid for pid in web.workers() if _age(pid) > 1.5]
                            if booted and web.kill_worker(rng.choice(sorted(booted))):
                                kills["random"] += 1
                                break
                            time.sleep(0.1)
                for future in futures:
                    future.result(timeout=120)
        finally:
            giving_up.set()  # a failure or a timeout: the deliveries still retrying stop

    def stuck() -> list[InboundMessage]:
        with rig.sessions() as session:
            return list(session.scalars(select(InboundMessage).where(InboundMessage.status == "received")))

    left_after_retries = len(stuck())
    # A row left `received` past its lease is taken over by Twilio's retry or by the clock: give the clock its turn.
    deadline = time.monotonic() + SCALE.takeover_wait
    while stuck() and time.monotonic() < deadline:
        rig.cli("tick")
        time.sleep(2)
    never_processed = stuck()

    with rig.sessions() as session:
        rows = {r.from_number: r for r in session.scalars(select(InboundMessage))}
        subscriptions = dict(session.execute(
            select(Subscriber.phone, func.count(Subscription.id)).join(Subscription)
            .where(Subscription.status == "active").group_by(Subscriber.phone)).all())
        consents = dict(session.execute(
            select(Subscriber.phone, func.count(ConsentEvent.id)).join(ConsentEvent)
            .where(ConsentEvent.action == "subscribe").group_by(Subscriber.phone)).all())
    doubled = [n for n in people if subscriptions.get(n, 0) > 1 or consents.get(n, 0) > 1]
    unanswered = [n for n in people if not final.get(n)]
    note(joins=len(people), worker_kills=sum(kills.values()), aimed_kills=kills["aimed"], texts_retried=sum(a > 1 for a in attempts.values()),
         retries=sum(attempts.values()) - len(attempts), left_received_after_retries=left_after_retries,
         never_processed=len(never_processed), answered_without_reply=len(unanswered), processed_twice=len(doubled))

    assert sum(kills.values()) == SCALE.webhook_kills
    assert len(rows) == len(people), "a text was not stored"
    assert doubled == [], f"JOIN acted on twice for {doubled[:5]}"
    assert never_processed == [], (
        f"{len(never_processed)} of {len(people)} texts were stored but never processed: still `received` "
        f"{SCALE.takeover_wait:.0f} s after Twilio's retries were answered (a worker killed between storing "
        f"and routing them; retries of them got {[final.get(r.from_number) for r in never_processed[:3]]!r}): "
        f"{[r.message_sid for r in never_processed[:5]]}")
    not_joined = [n for n in people if subscriptions.get(n, 0) != 1]
    assert not_joined == [], f"never subscribed: {not_joined[:5]}"
    assert {r.status for r in rows.values()} <= {"handled"}, {r.status for r in rows.values()}


# ── 7. forged and altered signatures ───────────────────────────────────────


def forgeries(twilio: Twilio, path: str, params: dict[str, str]) -> list[tuple[str, dict[str, str], str | None, str]]:
    """(what, params, signature, path) for every way a signature can be wrong for this request."""
    good_url = twilio.base_url + path
    valid = sign(good_url, params)
    other = dict(params, Body=params.get("Body", "") + "!") if "Body" in params else dict(params, MessageStatus="sent")
    first_key = sorted(params)[0]
    base, _, query = path.partition("?")
    cases: list[tuple[str, dict[str, str], str | None, str]] = [
        ("missing", params, "", path),
        ("forged: random bytes", params, base64.b64encode(random.randbytes(20)).decode(), path),
        ("forged: not base64", params, "not-a-signature", path),
        ("forged: wrong auth token", params, sign(good_url, params, token="another-account-token"), path),
        ("wrong URL: https", params, sign(good_url.replace("http://", "https://"), params), path),
        ("wrong URL: another host", params, sign(good_url.replace("127.0.0.1", "board.example.org"), params), path),
        ("wrong URL: another path", params, sign(twilio.base_url + ("/sms/status" if "inbound" in path
                                                                     else "/sms/inbound"), params), path),
        ("wrong URL: query added", params, sign(good_url + ("&" if query else "?") + "x=1", params), path),
        ("param changed", other, valid, path),
        ("param added", dict(params, OptOutType="STOP"), valid, path),
        ("param removed", {k: v for k, v in params.items() if k != first_key}, valid, path),
        ("signature of another request", params, sign(good_url, other), path),
        ("signature case changed", params, valid.swapcase(), path),
    ]
    if query:  # the outbox id is in the signed URL: changing it breaks the signature
        cases.append(("query changed", params, valid, f"{base}?outbox_id=999"))
        cases.append(("query removed", params, valid, base))
    return cases


def test_forged_or_altered_signatures_are_refused_and_change_nothing(rig: Rig, note):
    twilio = street(rig)
    sam = drama_number(201)
    assert twilio.text(text_params(sam, "JOIN ELM")).status_code == 200
    [row_id] = queue_texts(rig, [sam])
    rig.schema.sql("UPDATE outbox SET status = 'sent', provider_sid = 'SM' || md5('x'), sent_at = now() "
                   "WHERE id = :id", id=row_id)
    provider_sid = rig.schema.scalar("SELECT provider_sid FROM outbox WHERE id = :id", id=row_id)
    inbound = [
        text_params(sam, "STOP"),  # would opt Sam out
        text_params(drama_number(202), "JOIN ELM"),  # would subscribe a stranger
        text_params(sam, "POST Free sofa, collect today"),  # would publish in Sam's name
    ]
    status = {"MessageSid": provider_sid, "MessageStatus": "undelivered", "ErrorCode": "21610",
              "AccountSid": ACCOUNT_SID, "To": sam, "From": "+447700900000"}  # would opt Sam out too
    before = snapshot(rig)
    answers: list[tuple[str, str, int]] = []
    for params in inbound:
        for what, sent, signature, path in forgeries(twilio, "/sms/inbound", params):
            answers.append((what, path, twilio.post(path, sent, signature=signature).status_code))
    for what, sent, signature, path in forgeries(twilio, f"/sms/status?outbox_id={row_id}", status):
        answers.append((what, path, twilio.post(path, sent, signature=signature).status_code))
    after = snapshot(rig)

    refused = [a for a in answers if a[2] == 403]
    note(forged_requests=len(answers), refused_403=len(refused), tables_changed=len(changed_tables(before, after)))
    assert [a for a in answers if a[2] != 403] == []
    assert changed_tables(before, after) == []
    # The same requests, rightly signed, do act: the forgeries failed on their signatures alone.
    assert twilio.post(f"/sms/status?outbox_id={row_id}", status).status_code == 200
    assert twilio.text(inbound[0]).status_code == 200
    with rig.sessions() as session:
        assert session.scalar(select(Subscriber.opted_out_at).where(Subscriber.phone == sam)) is not None


# ── request size, and ids out of range ─────────────────────────────────────


def big_text(number: str) -> dict[str, str]:
    return text_params(number, "JOIN ELM " + "x" * (SIXTY_FOUR_KB + 6_000))


def test_a_signed_body_over_64_kb_is_refused_with_413(rig: Rig, note):
    twilio = street(rig)
    params = big_text(drama_number(301))
    answer = twilio.text(params)
    stored = len(inbound_rows(rig, params["MessageSid"]))
    note(body_bytes=len(urlencode(params)), status=answer.status_code, rows_stored=stored)
    assert (answer.status_code, stored) == (413, 0), (
        f"a signed {len(urlencode(params)) // 1024} KB webhook got {answer.status_code} and stored {stored} row(s); "
        "bodies over 64 KB must be refused with 413")


def test_an_unsigned_body_over_64_kb_is_refused_with_413_before_the_signature_is_read(rig: Rig, note):
    twilio = street(rig)
    params = big_text(drama_number(302))
    answer = twilio.post("/sms/inbound", params, signature="")
    note(body_bytes=len(urlencode(params)), status=answer.status_code)
    assert answer.status_code == 413, (
        f"an unsigned {len(urlencode(params)) // 1024} KB webhook got {answer.status_code}: the body was parsed "
        "(to check its signature) before its size was")


def test_an_oversized_body_is_refused_before_it_has_all_arrived(rig: Rig, note):
    """The answer comes while most of a 200 KB body is still to be sent: the board did not read it all first."""
    twilio = street(rig)
    params = text_params(drama_number(303), "x" * 200_000)
    body = urlencode(params).encode()
    head = (f"POST /sms/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {sign(twilio.base_url + '/sms/inbound', params)}"
            f"\r\nConnection: close\r\n\r\n").encode()
    port = int(twilio.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(head + body[:SIXTY_FOUR_KB + 2_000])
        try:
            first_line = connection.recv(200).split(b"\r\n", 1)[0].decode()
        except TimeoutError:
            first_line = "(no answer in 5 s)"
    note(declared_bytes=len(body), sent_bytes=SIXTY_FOUR_KB + 2_000, answer=first_line)
    assert " 413 " in first_line + " ", (
        f"with {SIXTY_FOUR_KB + 2_000} of {len(body)} bytes sent the board answered {first_line!r}: it waits for "
        "the whole body instead of refusing it by its size")


def test_a_status_callback_for_an_outbox_id_beyond_any_row_changes_nothing(rig: Rig, note):
    twilio = street(rig)
    sam = drama_number(304)
    assert twilio.text(text_params(sam, "JOIN ELM")).status_code == 200
    queue_texts(rig, [sam])
    before = snapshot(rig)
    params = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "undelivered", "ErrorCode": "21610",
              "AccountSid": ACCOUNT_SID, "To": sam}
    answers = [twilio.post(f"/sms/status?outbox_id={value}", params).status_code
               for value in ("2147483648", "99999999999999999999", "-1", "1e3", "")]
    after = snapshot(rig)
    note(callbacks=len(answers), statuses=sorted(set(answers)), tables_changed=len(changed_tables(before, after)))
    assert answers == [200] * len(answers)
    assert changed_tables(before, after) == []
