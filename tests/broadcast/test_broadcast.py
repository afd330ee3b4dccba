"""Broadcasts: an organiser previews, confirms with YES, and the clock fans it out once to each neighbour."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select, update

from sms_board import create_app
from sms_board.app import board_of
from sms_board.broadcast.billing import segments_this_month
from sms_board.broadcast.broadcasts import fan_out_broadcast
from sms_board.broadcast.campaigns import DRAFT_LIFETIME
from sms_board.clock.jobs import tick
from sms_board.community.confirmations import CONFIRM_WINDOW
from sms_board.models import Campaign, CampaignStatus, InboundMessage, Outbox, OutboxStatus
from sms_board.plumbing.utc import utcnow
from sms_board.sending.sender import drain
from sms_board.sending.transport import ConsoleTransport
from sms_board.text.segments import analyse
from tests.conftest import Phone, Runner, app_config, session_of

SAM, PRIYA, JOE, RUTH, ADA = "+447700900123", "+447700900456", "+447700900789", "+447700900001", "+447700900321"
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        yield traveller


def neighbourhood(app: Flask, clock) -> dict[str, Phone]:  # type: ignore[no-untyped-def]
    """Ruth organises Elm Street, where Sam, Priya and Joe live; Ada lives by the river."""
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 3")
    runner("area", "add", "river", "Riverside", "--postcode", "SE10")
    client = app.test_client()
    people = {}
    for number, name, area in [(SAM, "Sam", "ELM"), (PRIYA, "Priya", "ELM"), (JOE, "Joe", "ELM"),
                               (RUTH, "Ruth", "ELM"), (ADA, "Ada", "RIVER")]:
        person = Phone(client, number)
        person.text(f"JOIN {area}")
        people[name.lower()] = person
    runner("organiser", "add", RUTH, "elm")
    clock.shift(timedelta(minutes=1))
    return people


@pytest.fixture
def street(clock, app):
    return neighbourhood(app, clock)


def run_clock(app: Flask) -> dict[str, int]:
    return tick(board_of(app).sessions, board_of(app).settings, utcnow())


def broadcasts(app: Flask) -> list[Outbox]:
    with session_of(app) as session:
        return list(session.scalars(select(Outbox).where(Outbox.kind == "broadcast").order_by(Outbox.id)))


def campaigns(app: Flask) -> list[Campaign]:
    with session_of(app) as session:
        return list(session.scalars(select(Campaign).where(Campaign.kind == "broadcast").order_by(Campaign.id)))


def test_broadcast_previews_count_segments_and_cost(street, app):
    reply = street["ruth"].text("BROADCAST Bin collection moved to Friday")
    assert reply == ["Send to 3 neighbours in Elm Street (1 text each, ~£0.12)? Reply YES to send."]
    assert broadcasts(app) == []
    (draft,) = campaigns(app)
    assert draft.status == CampaignStatus.DRAFT.value
    assert draft.body == "Elm Street: Bin collection moved to Friday"
    assert (draft.audience, draft.segments, draft.estimated_cost) == (3, 1, 0.12)


def test_a_welsh_broadcast_reaches_neighbours_with_its_letters_as_written(street, app):
    ruth = street["ruth"]
    reply = ruth.text("BROADCAST D\u0175r wedi\u2019i ddiffodd \u2014 \u0177 \u00e2 \u00ea")
    assert reply == ["Send to 3 neighbours in Elm Street (1 text each, ~\u00a30.12)? Reply YES to send."]
    ruth.text("YES")
    run_clock(app)
    rows = broadcasts(app)
    assert {row.body for row in rows} == {"Elm Street: D\u0175r wedi'i ddiffodd - \u0177 \u00e2 \u00ea"}
    assert {(row.encoding, row.segments) for row in rows} == {("UCS-2", 1)}


def test_a_long_welsh_broadcast_is_cut_to_ten_texts_and_costs_ten(street, app):
    words = "Mae\u2019r d\u0175r wedi\u2019i ddiffodd yn Stryd yr Helyg tan \u0175yl y banc. " * 12
    for cut in range(0, 40, 3):  # wherever the cut falls, its "\u2026" must not push it to eleven texts
        street["ruth"].text("BROADCAST " + words[cut:])
        draft = campaigns(app)[-1]
        assert draft.segments == analyse(draft.body).segments == 10, cut
        assert "d\u0175r" in draft.body


def test_yes_confirms_and_the_clock_fans_it_out_once_to_each_neighbour(street, app):
    ruth = street["ruth"]
    ruth.text("ALL Bin collection moved to Friday")
    reply = ruth.text("YES")
    assert reply == ["On its way: your message is going to 3 neighbours in Elm Street."]
    assert campaigns(app)[0].status == CampaignStatus.CONFIRMED.value
    assert broadcasts(app) == []  # the webhook never fans out

    counts = run_clock(app)
    assert counts["broadcasts_started"] == 1 and counts["broadcast_texts"] == 3
    rows = broadcasts(app)
    assert sorted(row.to_number for row in rows) == sorted([SAM, PRIYA, JOE])
    assert {row.body for row in rows} == {"Elm Street: Bin collection moved to Friday"}
    assert {row.status for row in rows} == {OutboxStatus.QUEUED.value}
    assert campaigns(app)[0].status == CampaignStatus.SENDING.value

    assert run_clock(app)["broadcast_texts"] == 0
    assert len(broadcasts(app)) == 3


def test_the_campaign_is_done_once_every_text_has_gone(street, app):
    street["ruth"].text("BROADCAST Street party on Saturday from noon")
    street["ruth"].text("YES")
    run_clock(app)
    factory, settings = board_of(app).sessions, board_of(app).settings
    drain(factory, ConsoleTransport(io.StringIO()), settings, sleep=lambda _seconds: None)
    assert run_clock(app)["campaigns_done"] == 1
    campaign = campaigns(app)[0]
    assert campaign.status == CampaignStatus.DONE.value and campaign.audience == 3


def test_yes_after_sixteen_minutes_has_nothing_to_confirm(street, app, clock):
    ruth = street["ruth"]
    ruth.text("BROADCAST Bin collection moved to Friday")
    clock.shift(timedelta(minutes=16))
    assert ruth.text("YES") == ["Nothing to confirm. Text HELP to see what you can do."]
    counts = run_clock(app)
    assert counts["drafts_lapsed"] == 1
    assert campaigns(app)[0].status == CampaignStatus.CANCELLED.value
    assert broadcasts(app) == []
    assert DRAFT_LIFETIME == CONFIRM_WINDOW


def test_any_other_text_cancels_the_pending_broadcast(street, app):
    ruth = street["ruth"]
    ruth.text("BROADCAST Bin collection moved to Friday")
    ruth.text("Actually, let me check the date first")
    assert ruth.text("YES") == ["Nothing to confirm. Text HELP to see what you can do."]
    run_clock(app)
    assert broadcasts(app) == []


def test_the_newest_preview_is_the_one_yes_sends(street, app):
    ruth = street["ruth"]
    ruth.text("BROADCAST Bin collection moved to Thursday")
    ruth.text("BROADCAST Bin collection moved to Friday")
    ruth.text("YES")
    run_clock(app)
    assert {row.body for row in broadcasts(app)} == {"Elm Street: Bin collection moved to Friday"}


def test_a_non_organiser_is_refused_politely_and_the_text_is_kept(street, app, inbound_rows):
    reply = street["sam"].text("BROADCAST Free sofa, come and get it")
    assert reply == ["Only an area's organisers can send to everyone. Your message is saved and an organiser will see it."]
    urgent = street["sam"].text("URGENT my neighbour has fallen and cannot get up")[0]
    assert "call 999" in urgent
    kept = [row for row in inbound_rows() if row.from_number == SAM and row.in_inbox]
    assert [row.body for row in kept][-2:] == ["BROADCAST Free sofa, come and get it",
                                                "URGENT my neighbour has fallen and cannot get up"]
    assert campaigns(app) == []


def test_an_empty_broadcast_says_how(street):
    assert "BROADCAST Bin collection moved to Friday" in street["ruth"].text("BROADCAST")[0]


def test_an_organiser_of_several_areas_reaches_all_or_names_one(street, app, runner, phone):
    runner("organiser", "add", RUTH, "river")
    ruth = street["ruth"]
    assert "in Elm Street and Riverside" in ruth.text("BROADCAST Power cut tonight from 10pm")[0]
    ruth.text("YES")
    run_clock(app)
    assert sorted(row.to_number for row in broadcasts(app)) == sorted([SAM, PRIYA, JOE, ADA])
    assert {row.body for row in broadcasts(app)} == {"Elm Street & Riverside: Power cut tonight from 10pm"}

    preview = ruth.text("BROADCAST RIVER Towpath closed on Monday")[0]
    assert preview.startswith("Send to 1 neighbour in Riverside (")
    ruth.text("YES")
    run_clock(app)
    assert [row.body for row in broadcasts(app) if row.to_number == ADA][-1] == "Riverside: Towpath closed on Monday"


def test_a_neighbour_in_two_of_the_areas_gets_one_text(street, app, runner):
    runner("organiser", "add", RUTH, "river")
    street["ada"].text("JOIN ELM")
    street["ruth"].text("BROADCAST Power cut tonight from 10pm")
    street["ruth"].text("YES")
    run_clock(app)
    assert [row.to_number for row in broadcasts(app)].count(ADA) == 1


def test_running_the_fan_out_twice_texts_nobody_twice(street, app):
    street["ruth"].text("BROADCAST Bin collection moved to Friday")
    street["ruth"].text("YES")
    run_clock(app)
    campaign_id = campaigns(app)[0].id
    with session_of(app) as session:
        session.execute(update(Campaign).values(status=CampaignStatus.FANNING_OUT.value))
        session.commit()
    factory, settings = board_of(app).sessions, board_of(app).settings
    assert fan_out_broadcast(factory, settings, campaign_id, utcnow()).texts == 0
    run_clock(app)
    assert len(broadcasts(app)) == 3


def test_a_fan_out_killed_halfway_resumes_and_texts_everyone_exactly_once(street, app, phone, clock):
    for n in range(10, 20):
        phone(f"+4477009002{n}").text("JOIN ELM")
    clock.shift(timedelta(minutes=1))
    street["ruth"].text("BROADCAST Water main repairs on Tuesday")
    street["ruth"].text("YES")
    campaign_id = campaigns(app)[0].id
    factory, settings = board_of(app).sessions, board_of(app).settings

    stopped = fan_out_broadcast(factory, settings, campaign_id, utcnow(), chunk=4, max_chunks=2)  # dies here
    assert stopped.texts == 8
    assert campaigns(app)[0].status == CampaignStatus.FANNING_OUT.value
    clock.shift(timedelta(minutes=1))
    phone("+447700900399").text("JOIN ELM")  # joined after the fan-out began: not in its audience
    run_clock(app)

    recipients = [row.to_number for row in broadcasts(app)]
    assert len(recipients) == len(set(recipients)) == 3 + 10
    assert "+447700900399" not in recipients and RUTH not in recipients
    assert campaigns(app)[0].audience == 13


def test_stop_between_confirm_and_fan_out_means_nothing_to_that_number(street, app):
    street["ruth"].text("BROADCAST Bin collection moved to Friday")
    street["ruth"].text("YES")
    street["priya"].text("STOP")
    run_clock(app)
    assert sorted(row.to_number for row in broadcasts(app)) == sorted([SAM, JOE])


def test_broadcast_waits_for_quiet_hours_but_urgent_goes_at_once(db, tmp_path):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00"))
    with time_machine.travel(datetime(2026, 11, 25, 22, 30, tzinfo=UTC), tick=False) as traveller:
        people = neighbourhood(app, traveller)
        ruth = people["ruth"]
        ruth.text("BROADCAST Bin collection moved to Friday")
        assert ruth.text("YES") == [
            "On its way: your message is going to 3 neighbours in Elm Street. It waits for quiet hours to end at 08:00."]
        ruth.text("URGENT Water off in the whole street until 6am")
        ruth.text("YES")
        run_clock(app)

        held = [row for row in broadcasts(app) if "Bin" in row.body]
        urgent = [row for row in broadcasts(app) if "Water" in row.body]
        assert {row.status for row in held} == {OutboxStatus.HELD.value}
        assert {row.send_after for row in held} == {datetime(2026, 11, 26, 8, 0, tzinfo=UTC)}
        assert {(row.status, row.send_after) for row in urgent} == {(OutboxStatus.QUEUED.value, None)}
        assert urgent[0].body == "URGENT - Elm Street: Water off in the whole street until 6am"

        traveller.move_to(datetime(2026, 11, 26, 7, 59, tzinfo=UTC))  # past midnight, still quiet
        assert run_clock(app)["held_released"] == 0
        traveller.move_to(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
        assert run_clock(app)["held_released"] == 3
        assert {row.status for row in broadcasts(app)} == {OutboxStatus.QUEUED.value}


@pytest.mark.parametrize(
    ("evening", "quiet_ends"),
    [
        # Saturday 22:00 BST; the clocks go back overnight, so 08:00 on Sunday is 08:00 UTC.
        (datetime(2026, 10, 24, 21, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        # Saturday 22:00 GMT; the clocks go forward overnight, so 08:00 on Sunday is 07:00 UTC.
        (datetime(2027, 3, 27, 22, 0, tzinfo=UTC), datetime(2027, 3, 28, 7, 0, tzinfo=UTC)),
    ],
)
def test_held_broadcasts_go_at_local_eight_across_a_clock_change(db, tmp_path, evening, quiet_ends):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00"))
    with time_machine.travel(evening, tick=False) as traveller:
        ruth = neighbourhood(app, traveller)["ruth"]
        ruth.text("BROADCAST Clocks change tonight")
        assert ruth.text("YES")[0].endswith("It waits for quiet hours to end at 08:00.")
        run_clock(app)
        assert {row.send_after for row in broadcasts(app)} == {quiet_ends}
        traveller.move_to(quiet_ends - timedelta(minutes=1))
        assert run_clock(app)["held_released"] == 0
        traveller.move_to(quiet_ends)
        assert run_clock(app)["held_released"] == 3


def restart_with_cap(db, tmp_path, left: int, **config: str) -> Flask:  # type: ignore[no-untyped-def]
    """The board restarted with a monthly cap `left` segments above what it has used so far.

    Every text counts toward the cap, the replies to JOIN and POST included.
    """
    with db.engine.connect() as connection:
        used = connection.execute(select(func.sum(Outbox.segments))).scalar() or 0
    return create_app(app_config(db, tmp_path, SMS_BOARD_MONTHLY_SEGMENT_CAP=str(used + left), **config))


def phones_of(app: Flask, people: dict[str, Phone]) -> dict[str, Phone]:
    client = app.test_client()
    return {name: Phone(client, person.number) for name, person in people.items()}


def test_replies_count_toward_the_monthly_cap(street, app):
    with session_of(app) as session:
        replies = session.scalars(select(Outbox).where(Outbox.kind == "reply")).all()
        assert len(replies) == 5 and {row.status for row in replies} == {"sent"}
        assert segments_this_month(session, board_of(app).settings, utcnow()) == sum(r.segments for r in replies)


def test_the_monthly_cap_pauses_a_broadcast_and_tells_the_organisers(db, tmp_path):
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        people = neighbourhood(create_app(app_config(db, tmp_path)), traveller)
        app = restart_with_cap(db, tmp_path, left=2)
        people = phones_of(app, people)
        ruth = people["ruth"]
        ruth.text("BROADCAST Bin collection moved to Friday")
        ruth.text("YES")
        run_clock(app)
        assert run_clock(app)["broadcasts_paused"] == 0  # told once, not every minute
        assert broadcasts(app) == []
        (campaign,) = campaigns(app)
        assert campaign.status == CampaignStatus.PAUSED.value
        told = [row.body for row in ruth.received() if row.kind == "notify"]
        assert len(told) == 1 and "paused" in told[0] and f"limit of {board_of(app).settings.monthly_segment_cap}" in told[0]
        # Direct replies are never capped.
        assert people["sam"].text("HELP")


def test_the_monthly_cap_pauses_digests_too(db, tmp_path):
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        first = create_app(app_config(db, tmp_path))
        people = neighbourhood(first, traveller)
        people["sam"].text("POST Choir practice is on Thursday this week")
        boater = Phone(first.test_client(), "+447700900654")
        boater.text("JOIN RIVER")
        boater.text("POST Towpath reopens on Friday")  # for Ada: nobody gets their own post
        app = restart_with_cap(db, tmp_path, left=2)
        people = phones_of(app, people)
        traveller.move_to(datetime(2026, 11, 25, 18, 0, tzinfo=UTC))
        counts = run_clock(app)
        assert counts["digests_paused"] == 1 and counts["digest_texts"] == 1  # Ada's, by the river, fits
        told = [row.body for row in people["ruth"].received() if row.kind == "notify"]
        assert len(told) == 1 and "Elm Street digest is paused" in told[0]


def test_cli_broadcast_previews_then_sends_with_yes(street, app, runner):
    preview = runner("broadcast", "--area", "elm", "Bin collection moved to Friday")
    assert preview.stdout.splitlines() == [
        "Broadcast to Elm Street: 4 recipients, 1 segment (GSM-7) each, ~£0.16",  # from the CLI, Ruth too
        "Elm Street: Bin collection moved to Friday",
    ]
    assert campaigns(app) == [] and broadcasts(app) == []

    sent = json.loads(runner("broadcast", "--area", "elm", "--yes", "--json", "Bin", "collection", "moved").stdout)
    assert sent["sent"] is True and sent["texts"] == 4 and sent["recipients"] == 4
    assert sent["body"] == "Elm Street: Bin collection moved" and sent["held_until"] is None
    assert len(broadcasts(app)) == 4
    assert runner("broadcast", "--area", "nowhere", "Hello", ok=False).exit_code != 0


def test_cli_broadcast_in_quiet_hours_says_it_is_held_until_eight(db, tmp_path):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00"))
    with time_machine.travel(datetime(2026, 11, 25, 23, 0, tzinfo=UTC), tick=False) as traveller:
        neighbourhood(app, traveller)
        sent = Runner(app)("broadcast", "--area", "elm", "--yes", "Bin collection moved to Friday")
        assert sent.stderr.splitlines()[-1].endswith(
            ": 4 texts written to the outbox, held until 08:00 (quiet hours).")
        assert "the sender sends them" not in sent.stderr
        as_json = json.loads(Runner(app)("broadcast", "--area", "elm", "--yes", "--json", "Bins").stdout)
        assert as_json["held_until"] == "2026-11-26T08:00:00+00:00"
    assert {row.status for row in broadcasts(app)} == {OutboxStatus.HELD.value}


def test_cli_urgent_broadcast_goes_during_quiet_hours(db, tmp_path):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00"))
    with time_machine.travel(datetime(2026, 11, 25, 23, 0, tzinfo=UTC), tick=False) as traveller:
        neighbourhood(app, traveller)
        Runner(app)("broadcast", "--area", "elm", "--urgent", "--yes", "Gas leak: stay indoors")
    assert {(row.status, row.body) for row in broadcasts(app)} == {
        (OutboxStatus.QUEUED.value, "URGENT - Elm Street: Gas leak: stay indoors")}


def test_a_broadcast_with_nobody_to_reach_says_so(clock, app, runner, phone):
    runner("area", "add", "elm", "Elm Street")
    runner("organiser", "add", RUTH, "elm")
    ruth = phone(RUTH)
    ruth.text("JOIN ELM")
    assert "no one to send to" in ruth.text("BROADCAST Anyone there?")[0]
    with session_of(app) as session:
        assert session.scalars(select(InboundMessage)).first() is not None
    assert campaigns(app) == []


def test_texts_still_queued_when_quiet_hours_begin_wait_for_the_morning(db, tmp_path):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00"))
    with time_machine.travel(datetime(2026, 11, 25, 20, 55, tzinfo=UTC), tick=False) as traveller:
        ruth = neighbourhood(app, traveller)["ruth"]
        ruth.text("BROADCAST Bin collection moved to Friday")
        ruth.text("YES")
        ruth.text("URGENT Burst main: water off all night")
        ruth.text("YES")
        run_clock(app)
        assert {row.status for row in broadcasts(app)} == {OutboxStatus.QUEUED.value}  # the sender is slow tonight

        traveller.move_to(datetime(2026, 11, 25, 21, 0, tzinfo=UTC))
        assert run_clock(app)["quiet_hours_held"] == 3
        rows = broadcasts(app)
        assert {(row.status, row.send_after) for row in rows if "Bin" in row.body} == {
            (OutboxStatus.HELD.value, datetime(2026, 11, 26, 8, 0, tzinfo=UTC))}
        assert {row.status for row in rows if "URGENT" in row.body} == {OutboxStatus.QUEUED.value}

        traveller.move_to(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
        assert run_clock(app)["held_released"] == 3


def test_a_digest_paused_part_way_by_the_cap_waits_for_morning_too(db, tmp_path):
    app = create_app(app_config(db, tmp_path, SMS_BOARD_QUIET_HOURS="21:00-08:00"))
    with time_machine.travel(WEDNESDAY_NOON, tick=False) as traveller:
        people = neighbourhood(app, traveller)
        people["sam"].text("POST Choir practice is on Thursday this week")
        traveller.shift(timedelta(minutes=5))
        people["joe"].text("LEAVE ELM")
        people["joe"].text("JOIN ELM")
        traveller.shift(timedelta(minutes=5))
        people["priya"].text("POST Bring a plate to the street party")
        # Sam, Priya and Ruth share one body (3 texts: the cap); Joe's shorter one would pass it.
        app = restart_with_cap(db, tmp_path, left=3, SMS_BOARD_QUIET_HOURS="21:00-08:00")
        traveller.move_to(datetime(2026, 11, 25, 18, 0, tzinfo=UTC))
        counts = run_clock(app)
        assert counts["digests_paused"] == 1 and counts["digest_texts"] == 3
        with session_of(app) as session:
            statuses = session.scalars(select(Campaign.status).where(Campaign.kind == "digest")).all()
            assert statuses.count("paused") == 1  # Elm Street's; the other areas had nothing new
        traveller.move_to(datetime(2026, 11, 25, 21, 30, tzinfo=UTC))
        run_clock(app)
    with session_of(app) as session:
        rows = session.scalars(select(Outbox).where(Outbox.kind == "digest")).all()
    assert len(rows) == 3
    assert {(row.status, row.send_after) for row in rows} == {("held", datetime(2026, 11, 26, 8, 0, tzinfo=UTC))}
