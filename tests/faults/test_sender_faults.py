"""The real sender (`sms-board send --forever`) against the fake Twilio process, killed and failed on purpose.

What a resident would notice, counted from the outbox and the fake's request log:
a text that never comes (lost), or comes twice (duplicate). Every request the
fake saw carries its outbox row's id in the status-callback URL, so each request
is matched to its row.
"""

from __future__ import annotations

import random
import time

import pytest

from sms_board.models import Subscriber

from .outbox import Audit, age_sending, count_status, queue_calls, queue_texts, rows
from .procs import backends_of, drama_number, run_cli, terminate_backends, wait_for
from .rig import SCALE, TIME_LIMIT, Rig

pytestmark = [pytest.mark.faults, pytest.mark.timeout(TIME_LIMIT)]


def numbers(n: int, first: int = 1) -> list[str]:
    """n recipients from the drama range, reused in turn when n > 999."""
    return [drama_number(first + (i % (1000 - first))) for i in range(n)]


def stop_all(senders) -> None:  # type: ignore[no-untyped-def]
    for sender in senders:
        sender.stop()


def settle_orphans(rig: Rig) -> int:
    """Every sender is stopped: rows still `sending` are orphans of a killed one. Returns how many."""
    orphans = age_sending(rig)
    result = run_cli(rig.env("settle"), "send")
    assert result.returncode == 0, result.stderr
    return orphans


# ── 3. SIGKILL of the sender at random points ──────────────────────────────


def kill_at_random(rig: Rig, rng: random.Random, senders, wanted: int, *, seconds: float) -> int:  # type: ignore[no-untyped-def]
    """Kill a sender (and start it again) `wanted` times while rows wait; returns how many kills landed."""
    kills = 0
    deadline = time.monotonic() + seconds
    while kills < wanted and count_status(rig, "queued") and time.monotonic() < deadline:
        seen = rig.fake.count()
        # Kill once sending is under way again (a new request reached Twilio), at a random moment after.
        wait_for(lambda seen=seen: rig.fake.count() > seen or not count_status(rig, "queued"), 30,
                 "the restarted sender to send again")
        time.sleep(rng.uniform(0.0, 0.5))
        victim = rng.choice(senders)
        victim.kill()
        kills += 1
        victim.start()
    return kills


@pytest.mark.parametrize("processes", [1, 2], ids=["one-sender", "two-senders"])
def test_a_sender_killed_at_random_points_never_sends_a_text_twice(rig: Rig, rng: random.Random, note, processes):
    ids = queue_texts(rig, numbers(SCALE.sender_texts))
    rig.fake.script(latency=[0.0, 0.03])  # Twilio takes a moment: kills land mid-request too
    concurrency = 4
    # 40/s: the outbox lasts about twice as long as the kills take even when a second sender keeps
    # sending while the first restarts, so every kill lands before it drains.
    senders = [rig.sender(f"sender{n}", SMS_BOARD_RATE="40", SMS_BOARD_SENDER_CONCURRENCY=str(concurrency)).start()
               for n in range(processes)]
    kills = kill_at_random(rig, rng, senders, SCALE.sender_kills, seconds=150)
    wait_for(lambda: not count_status(rig, "queued"), 90, "the outbox to drain")
    stop_all(senders)
    orphans = settle_orphans(rig)

    audit = Audit(rows(rig), rig.fake.requests())
    statuses = [row.status for row in audit.rows]
    unknown = [row for row in audit.rows if row.status == "unknown"]
    note(processes=processes, texts=len(ids), kills=kills, requests=len(audit.requests),
         requests_cut_off_by_kills=len(audit.incomplete), left_sending_by_kills=orphans, unknown=len(unknown),
         unknown_that_reached_twilio=sum(1 for row in unknown if audit.per_row.get(row.id)),
         duplicates=len(audit.duplicates), lost=len(audit.lost()))
    assert kills == SCALE.sender_kills, f"only {kills} kills before the outbox drained"
    assert audit.duplicates == [], f"rows sent to Twilio more than once: {audit.duplicates}"
    assert all(len(audit.per_row.get(i, [])) <= 1 for i in ids), "a row reached Twilio twice"
    assert audit.strays == []
    assert "sending" not in statuses and "queued" not in statuses
    assert audit.lost() == [], f"rows neither sent nor unknown: {audit.lost()[:5]}"
    assert audit.sent_without_twilio() == [], "a row is marked sent but Twilio never took it"
    # Only a row in flight when its sender died may be unknown; every other row was sent, once.
    assert len(unknown) == orphans <= kills * concurrency
    assert statuses.count("sent") == len(ids) - len(unknown)
    assert all(len(audit.accepted(row)) == 1 for row in audit.rows if row.status == "sent")


def landlines(n: int) -> list[str]:
    """n numbers from Ofcom's landline drama range for Cardiff (029 2018 0000 … 0999)."""
    return [f"+44292018{i:04d}" for i in range(n)]


def test_a_sender_killed_with_calls_in_flight_never_places_a_call_twice(rig: Rig, rng: random.Random, note):
    calls = queue_calls(rig, landlines(SCALE.sender_calls))
    texts = queue_texts(rig, numbers(SCALE.sender_calls // 2))
    rig.fake.script(latency=[0.0, 0.03])
    voice = {"SMS_BOARD_VOICE": "on"}  # call and quiet hours are off on every rig (`procs.board_env`)
    # 10 calls a second beside the texts: the calls last long enough for every kill to land on them.
    sender = rig.sender("sender", SMS_BOARD_RATE="40", SMS_BOARD_SENDER_CONCURRENCY="2",
                        SMS_BOARD_CALLS_PER_SECOND="10", **voice).start()
    kills = kill_at_random(rig, rng, [sender], SCALE.call_kills, seconds=120)
    wait_for(lambda: not count_status(rig, "queued"), 90, "the outbox to drain")
    sender.stop()
    age_sending(rig)
    result = run_cli(rig.env("settle", **voice), "send")
    assert result.returncode == 0, result.stderr

    audit = Audit(rows(rig), rig.fake.requests())
    call_rows = [row for row in audit.rows if row.id in set(calls)]
    note(calls=len(calls), texts=len(texts), kills=kills, requests=len(audit.requests),
         call_requests=sum(1 for r in audit.requests if r.get("kind") == "call"),
         unknown_calls=sum(1 for row in call_rows if row.status == "unknown"), duplicates=len(audit.duplicates))
    assert kills == SCALE.call_kills, f"only {kills} kills before the outbox drained"
    assert audit.duplicates == [], f"rows placed or sent more than once: {audit.duplicates}"
    assert all(len(audit.per_row.get(i, [])) <= 1 for i in calls), "a call reached Twilio twice"
    assert audit.lost() == [], "every row is sent, or `unknown` when a kill left it mid-request"
    assert audit.sent_without_twilio() == []
    assert all(r["kind"] == "call" for i in calls for r in audit.per_row.get(i, []))


# ── 4. Twilio failing on purpose ───────────────────────────────────────────


def fast_forward_retries(rig: Rig) -> int:
    """Make every text waiting for its retry due now.

    Retries back off 5 s, 10 s, 20 s … (proved on a fake clock in tests/test_sender.py);
    here what matters is what reaches Twilio, not when, so the test moves the clock of
    the waiting rows on instead of waiting minutes.
    """
    return len(rig.schema.sql(
        "UPDATE outbox SET send_after = now() AT TIME ZONE 'UTC' "
        "WHERE status = 'queued' AND send_after > now() AT TIME ZONE 'UTC' RETURNING id"))


def spread(plain: list[str], special: list[str], copies: int, gap: int) -> list[str]:
    """`plain` with `copies` texts to each special number, at least `gap` rows apart (never two in flight at once)."""
    recipients = list(plain)
    for copy in range(copies):
        for n, number in enumerate(special):
            recipients.insert(min(len(recipients), 5 + copy * gap * len(special) + n * gap), number)
    return recipients


def test_twilio_errors_are_retried_or_settled_and_nothing_is_sent_twice(rig: Rig, seed: int, note):
    opted_out, dead = [drama_number(1), drama_number(2)], [drama_number(3), drama_number(4)]
    recipients = spread(numbers(SCALE.error_texts, first=10), opted_out + dead, copies=3, gap=10)
    ids = queue_texts(rig, recipients)
    mix = {"429": 0.20, "500": 0.10, "drop": 0.025, "hang": 0.025}
    rig.fake.script(seed=seed, mix=mix, latency=[0.0, 0.01], hang_seconds=12,
                    numbers={**dict.fromkeys(opted_out, "21610"), **dict.fromkeys(dead, "21211")})
    sender = rig.sender("sender", SMS_BOARD_RATE="50", SMS_BOARD_SENDER_CONCURRENCY="6").start()
    fast_forwarded = 0
    limit = 60 + len(ids) / 2  # a 429 holds every send back a second: about 5 texts a second get through
    deadline = time.monotonic() + limit
    while count_status(rig, "queued", "sending") and time.monotonic() < deadline:
        fast_forwarded += fast_forward_retries(rig)
        time.sleep(0.5)
        assert sender.alive(), f"the sender stopped:\n{sender.tail()}"
    assert not count_status(rig, "queued", "sending"), f"texts still waiting after {limit:.0f} s"
    sender.stop()

    audit = Audit(rows(rig), rig.fake.requests())
    answers = [r["answer"] for r in audit.requests]
    by_number: dict[str, list] = {}
    for row in audit.rows:
        by_number.setdefault(row.to, []).append(row)
    unknown = [row for row in audit.rows if row.status == "unknown"]
    note(texts=len(ids), requests=len(answers), **{f"answered_{a}": answers.count(a) for a in sorted(set(answers))},
         retries_fast_forwarded=fast_forwarded, sent=sum(r.status == "sent" for r in audit.rows),
         unknown=len(unknown), duplicates=len(audit.duplicates), lost=len(audit.lost(("sent", "unknown", "failed",
                                                                                          "cancelled"))))

    assert audit.duplicates == [], f"sent again after Twilio took it or after an ambiguous send: {audit.duplicates}"
    assert audit.strays == []
    assert audit.sent_without_twilio() == []
    for row in audit.rows:
        seen = [r["answer"] for r in audit.per_row.get(row.id, [])]
        if row.to in opted_out or row.to in dead:
            continue
        if row.status == "sent":
            assert seen[-1] == "accept" and seen.count("accept") == 1, (row, seen)
            assert all(a in {"429", "500"} for a in seen[:-1]), (row, seen)
        elif row.status == "unknown":
            # Dropped or hung after the request was sent: Twilio may have it, so it is never sent again.
            assert seen and seen[-1] in {"drop", "hang"}, (row, seen)
            assert all(a in {"429", "500"} for a in seen[:-1]), (row, seen)
        elif row.status == "failed":  # only after the retry cap, every answer transient
            assert len(seen) == 10 and set(seen) <= {"429", "500"}, (row, seen)
        else:
            raise AssertionError(f"row {row.id} ended {row.status!r}: {seen}")

    with rig.sessions() as session:
        people = {p.phone: p for p in session.query(Subscriber).filter(Subscriber.phone.in_(opted_out + dead))}
    for number in opted_out + dead:
        code = "21610" if number in opted_out else "21211"
        texts = by_number[number]
        asked = [r for row in texts for r in audit.per_row.get(row.id, [])]
        assert len(asked) == 1, f"{number}: Twilio was asked {len(asked)} times after refusing it ({code})"
        assert sorted((r.status, r.error_code) for r in texts) == [("cancelled", None)] * 2 + [("failed", code)]
        if number in opted_out:
            assert people[number].opted_out_at is not None and people[number].undeliverable_at is None
        else:
            assert people[number].undeliverable_at is not None and people[number].opted_out_at is None


# ── 5. Twilio down for a while, then back ──────────────────────────────────


def test_when_twilio_comes_back_every_text_goes_once(rig: Rig, note):
    ids = queue_texts(rig, numbers(SCALE.outage_texts))
    sender = rig.sender("sender", SMS_BOARD_RATE="20", SMS_BOARD_SENDER_CONCURRENCY="4").start()
    wait_for(lambda: rig.fake.count() >= len(ids) // 5, 60, "a fifth of the texts to go")
    half = SCALE.outage_seconds / 2
    before = rig.fake.count()
    rig.fake.mode("refuse")  # nothing listens: connections refused
    time.sleep(half)
    rig.fake.mode("503")  # Twilio answers, but only "Service Unavailable"
    time.sleep(half)
    rig.fake.mode("up")
    during = rig.fake.count() - before
    back = time.monotonic()
    wait_for(lambda: not count_status(rig, "queued", "sending"), 90, "every text to go after Twilio came back")
    drained_after = time.monotonic() - back
    sender.stop()

    audit = Audit(rows(rig), rig.fake.requests())
    attempts = sum(row.attempts for row in audit.rows)
    refused = attempts - len(audit.requests)
    retried = [row for row in audit.rows if row.attempts > 1]
    note(texts=len(ids), outage_seconds=SCALE.outage_seconds, attempts=attempts, refused_connections=refused,
         answered_503=sum(r["answer"] == "503" for r in audit.requests), requests_during_outage=during,
         texts_retried=len(retried), drained_seconds_after_return=round(drained_after),
         duplicates=len(audit.duplicates), lost=len(audit.lost(("sent",))))
    assert refused > 0 and any(r["answer"] == "503" for r in audit.requests), "the outage was not felt"
    assert retried, "no text was caught by the outage"
    assert audit.duplicates == [] and audit.strays == []
    assert audit.lost(("sent",)) == [], f"not sent after Twilio came back: {audit.lost(('sent',))[:5]}"
    assert all(len(audit.accepted(row)) == 1 for row in audit.rows)
    assert audit.sent_without_twilio() == []


# ── 9. PostgreSQL connections killed under the sender ──────────────────────


def test_the_sender_reconnects_when_its_database_connections_are_killed(rig: Rig, rng: random.Random, note):
    ids = queue_texts(rig, numbers(SCALE.connection_texts))
    rig.fake.script(latency=[0.0, 0.02])
    # A round (pause, kill, look) takes at most about 0.9 s, so a rate that needs 1.2 s per round to
    # drain the outbox leaves every kill a queue to land in, however quickly the sender reconnects.
    rate = max(1, int(SCALE.connection_texts / (SCALE.connection_kills * 1.2)))
    sender = rig.sender("sender", SMS_BOARD_RATE=str(rate), SMS_BOARD_SENDER_CONCURRENCY="4").start()
    name = rig.schema.application_name("sender")
    rounds, terminated, exits, last_words = 0, 0, 0, ""
    deadline = time.monotonic() + 120
    while rounds < SCALE.connection_kills and count_status(rig, "queued") and time.monotonic() < deadline:
        # Each kill lands on a sender that is connected again: the reconnection is the promise.
        wait_for(lambda: backends_of(rig.schema.engine, [name]) > 0 or not count_status(rig, "queued"), 20,
                 "the sender to connect to the database again")
        time.sleep(rng.uniform(0.1, 0.6))
        terminated += terminate_backends(rig.schema.engine, [name])
        rounds += 1
        time.sleep(0.3)
        if not sender.alive():
            # What a process supervisor would do; the promise is that it is never needed.
            exits += 1
            last_words = sender.tail(40)
            sender.start()
    wait_for(lambda: not count_status(rig, "queued") or not sender.alive(), 60, "the outbox to drain")
    if not sender.alive():
        exits += 1
        last_words = sender.tail(40)
        sender.start()
        wait_for(lambda: not count_status(rig, "queued"), 60, "the outbox to drain")
    sender.stop()
    orphans = settle_orphans(rig)

    audit = Audit(rows(rig), rig.fake.requests())
    unknown = [row for row in audit.rows if row.status == "unknown"]
    note(texts=len(ids), rate=rate, rounds=rounds, connections_terminated=terminated, sender_exits=exits,
         unknown=len(unknown), unknown_that_reached_twilio=sum(1 for row in unknown if audit.per_row.get(row.id)),
         duplicates=len(audit.duplicates), lost=len(audit.lost()))
    assert rounds == SCALE.connection_kills and terminated >= rounds
    assert audit.duplicates == [] and audit.strays == []
    assert all(len(audit.per_row.get(i, [])) <= 1 for i in ids)
    assert audit.lost() == [] and audit.sent_without_twilio() == []
    assert len(unknown) == orphans
    assert exits == 0, (
        f"`sms-board send --forever` exited {exits} times when its database connection was killed, "
        f"instead of reconnecting; it said:\n{last_words}")
