"""The SMS language a resident uses: JOIN, LEAVE, NAME, POST, AREAS, HELP, typos and refs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import ConsentEvent, Item, Subscription
from sms_board.text.segments import analyse
from tests.conftest import Runner, app_config, session_of

SAM, PRIYA = "+447700900123", "+447700900456"


def test_join_by_slug_records_consent_with_the_words_and_the_welcome(areas, phone, app):
    reply = phone(SAM).text("JOIN ELM")
    assert reply == ["Welcome to Elm Street board. Text POST <msg> to share, NEED <msg> to ask for help, "
                     "STOP to stop. Your posts appear at board.example.org/board/elm with your first name: "
                     "text NAME <first name> to give it."]
    with session_of(app) as session:
        subscription = session.scalars(select(Subscription)).one()
        assert (subscription.status, subscription.consent_text, subscription.consent_channel) == (
            "active", "JOIN ELM", "sms")
        event = session.scalars(select(ConsentEvent)).one()
        assert event.action == "subscribe" and event.wording == reply[0]


def test_a_named_residents_welcome_says_where_posts_appear_and_a_board_without_an_address_still_says_so(
    areas, phone, db, tmp_path,
):
    sam = phone(SAM)
    sam.text("NAME Sam")
    assert sam.text("JOIN ELM")[0].endswith(
        "STOP to stop. Your posts appear at board.example.org/board/elm with your first name.")
    unaddressed = Runner(create_app(app_config(db, tmp_path, SMS_BOARD_PUBLIC_URL=None)))
    assert json.loads(unaddressed("simulate", PRIYA, "JOIN OAK", "--json").stdout)["replies"][0].endswith(
        "Your posts appear on the area's public web page with your first name: text NAME <first name> to give it.")


@pytest.mark.parametrize("text", ["join elm", "  JOIN ELM  ", "JOÍN elm!", "Join Elm Street", "JION ELM", "join. elm"])
def test_join_tolerates_case_accents_punctuation_and_one_typo(areas, phone, text):
    assert phone(SAM).text(text)[0].startswith("Welcome to Elm Street")


@pytest.mark.parametrize(("postcode", "area"), [
    ("SE6 1AB", "Elm Street"), ("se61ab", "Elm Street"), ("SE6 2XY", "Elm Street"),
    ("SE6 4QQ", "Oak Road"), ("SE6", "Oak Road"), ("SE10 9AB", "Riverside"),
])
def test_join_by_postcode_takes_the_longest_matching_prefix(areas, phone, postcode, area):
    assert phone(SAM).text(f"JOIN {postcode}")[0].startswith(f"Welcome to {area}")


def test_outward_codes_match_whole(phone, runner):
    runner("area", "add", "bankside", "Bankside", "--postcode", "SE1")
    runner("area", "add", "greenwich", "Greenwich", "--postcode", "SE10")
    assert phone(SAM).text("JOIN SE10 9AB")[0].startswith("Welcome to Greenwich")
    assert phone(PRIYA).text("JOIN SE1 9AB")[0].startswith("Welcome to Bankside")


def test_unknown_area_or_join_alone_lists_areas(areas, phone):
    unknown = phone(SAM).text("JOIN ATLANTIS")[0]
    assert "couldn't find" in unknown and "JOIN ELM" in unknown and "JOIN OAK" in unknown
    alone = phone(SAM).text("JOIN")[0]
    assert alone.startswith("Which area?") and "JOIN RIVER" in alone


def test_unknown_postcode_lists_the_nearest_areas_first(areas, phone):
    reply = phone(SAM).text("JOIN SE6 9ZZ")[0]
    # SE6 9 is served by no sector, but Oak Road serves all of SE6.
    assert reply.startswith("Welcome to Oak Road")
    nearest = phone(PRIYA).text("JOIN SE7 1AA")[0]
    assert "Which area?" in nearest


def test_joining_twice_says_so(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    assert sam.text("JOIN ELM")[0].startswith("You're already in Elm Street")


def test_private_areas_are_not_joined_by_name(runner, phone, app):
    runner("area", "add", "tenants", "Tower Tenants", "--private")
    reply = phone(SAM).text("JOIN TENANTS")[0]
    assert "request to join Tower Tenants has gone to its organisers" in reply
    with session_of(app) as session:
        assert session.scalars(select(Subscription)).all() == []


def test_leave_one_area_keeps_the_others_and_is_not_stop(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("JOIN RIVER")
    reply = sam.text("LEAVE ELM")[0]
    assert "You've left Elm Street" in reply and "still in Riverside" in reply and "not STOP" in reply
    with session_of(app) as session:
        statuses = dict(session.execute(select(Subscription.area_id, Subscription.status)).all())
        assert sorted(statuses.values()) == ["active", "left"]


def test_leave_tolerates_one_typo(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    assert "You've left Elm Street" in sam.text("LAEVE ELM")[0]


def test_leave_alone_leaves_every_area(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("JOIN OAK")
    assert "Elm Street, Oak Road" in sam.text("LEAVE")[0]
    assert "not in any area" in sam.text("LEAVE")[0]


def test_name_signs_posts_and_refuses_numbers(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    assert sam.text("NAME Sam")[0].startswith("Thanks, Sam")
    assert "Letters only" in sam.text("NAME 07700900123")[0]
    reply = sam.text("POST Lost ginger cat near the park")[0]
    assert reply.startswith("Posted as #N") and "to Elm Street" in reply
    with session_of(app) as session:
        item = session.scalars(select(Item)).one()
        assert (item.author_name, item.body, item.status, item.kind) == (
            "Sam", "Lost ginger cat near the park", "published", "notice")


def test_post_before_joining_says_how_to_join(areas, phone):
    assert "Join an area first" in phone(SAM).text("POST hello")[0]


def test_post_in_several_areas_asks_which_and_accepts_the_area_word(areas, phone, app):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("JOIN OAK")
    assert "Which area?" in sam.text("POST Street party Saturday")[0]
    assert "to Oak Road" in sam.text("POST OAK Street party Saturday")[0]
    with session_of(app) as session:
        assert session.scalars(select(Item.body)).one() == "Street party Saturday"


def test_notice_is_an_alias_of_post(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    assert sam.text("NOTICE Bins on Friday")[0].startswith("Posted as #N")


def test_post_refs_share_one_sequence_with_requests(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    first = sam.text("POST one")[0]
    second = sam.text("NEED two")[0]
    third = sam.text("OFFER three")[0]
    assert "#N1" in first and "#R2" in second and "#O3" in third


def test_areas_lists_public_areas_and_mine(areas, phone):
    sam = phone(SAM)
    sam.text("JOIN RIVER")
    reply = sam.text("AREAS")[0]
    assert "Elm Street (JOIN ELM)" in reply and "You're in Riverside" in reply


@pytest.mark.parametrize("word", ["HELP", "help", "INFO", "Help!", "HLEP"])
def test_help_explains_the_board(areas, phone, word, inbound_rows):
    reply = phone(SAM).text(word)[0]
    assert "JOIN" in reply and "STOP" in reply
    assert not inbound_rows()[-1].in_inbox


def test_help_with_more_words_is_answered_and_filed_for_organisers(areas, phone, inbound_rows):
    reply = phone(SAM).text("HELP my mum has fallen")[0]
    assert "JOIN" in reply
    assert inbound_rows()[-1].in_inbox


@pytest.mark.parametrize("text", [
    "Lost cat on Elm St", "Same here", "John says hello", "Most people came",
    # a keyword plus an inflection is an English word too (docs/language.md, "Typos")
    "Offers of help welcome", "Leaves all over the path again", "Names of the winners",
])
def test_everyday_words_are_not_read_as_keyword_typos(areas, phone, inbound_rows, text):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text(text)
    row = inbound_rows()[-1]
    assert row.in_inbox and row.handler == "inbox"


def test_ambiguous_typos_are_not_guessed(areas, phone, inbound_rows):
    # "INFRO" is one edit from INFO and from INTRO: two candidates, so no guess.
    phone(SAM).text("INFRO please")
    assert inbound_rows()[-1].handler == "inbox"


def test_yes_with_nothing_pending_says_so(areas, phone):
    assert phone(SAM).text("YES")[0].startswith("Nothing to confirm")


def test_simulate_runs_the_same_pipeline_and_prints_json(areas, runner, app, inbound_rows):
    import json

    result = runner("simulate", SAM, "JOIN ELM", "--json")
    document = json.loads(result.stdout)
    assert document["replies"][0].startswith("Welcome to Elm Street")
    again = json.loads(runner("simulate", SAM, "hello", "--json").stdout)
    assert len(again["replies"]) == 1
    rows = inbound_rows()
    assert len(rows) == 2 and rows[0].message_sid != rows[1].message_sid
    short_code = json.loads(runner("simulate", "12345", "JOIN ELM", "--json").stdout)
    assert short_code == {"replies": []}


def test_outbox_json_lists_rows_with_segments_and_full_numbers(areas, runner, phone):
    import json

    sam, priya = phone(SAM), phone(PRIYA)
    for person, name in ((sam, "Sam"), (priya, "Priya")):
        person.text("JOIN ELM")
        person.text(f"NAME {name}")
    sam.text("NEED Lift")
    priya.text("CAN R1")
    rows = [row for row in json.loads(runner("outbox", "--json").stdout) if row["kind"] != "reply"]
    assert [row["to"] for row in rows] == [SAM]
    row = rows[0]
    assert set(row) >= {"id", "to", "body", "kind", "status", "segments", "encoding"}
    assert (row["kind"], row["status"], row["encoding"]) == ("notify", "queued", "GSM-7")
    assert row["segments"] >= 1
    runner("send")
    assert row["id"] in [sent["id"] for sent in json.loads(runner("outbox", "--json", "--status", "sent").stdout)]


def test_a_reply_with_curly_quotes_goes_as_one_gsm7_segment_and_is_counted(areas, runner, phone):
    import json

    sam = phone(SAM)
    sam.text("JOIN ELM")
    [reply] = sam.text("NAME Sam O’Brien")

    assert "Sam O'Brien" in reply  # smart-encoded: a plain apostrophe
    replies = [row for row in json.loads(runner("outbox", "--json").stdout) if row["kind"] == "reply"]
    assert [(row["to"], row["status"]) for row in replies] == [(SAM, "sent")] * 2
    named = replies[-1]
    assert (named["body"], named["encoding"], named["segments"]) == (reply, "GSM-7", 1)


def test_a_name_keeps_its_letters_and_the_reply_is_counted_in_ucs2(areas, runner, phone):
    import json

    siobhan = phone(SAM)
    siobhan.text("JOIN ELM")
    [reply] = siobhan.text("NAME Siobhán O’Brien")

    assert "Siobhán O'Brien" in reply  # the fada is a letter, kept; the curly apostrophe is not
    named = [row for row in json.loads(runner("outbox", "--json").stdout) if row["kind"] == "reply"][-1]
    assert (named["body"], named["encoding"], named["segments"]) == (reply, "UCS-2", analyse(reply).segments)
    assert named["segments"] == 2  # 97 characters: more than the 70 of one UCS-2 text


def test_segments_command_reports_encoding_and_smart_text(runner):
    import json

    plain = json.loads(runner("segments", "--json", "It’s here").stdout)
    assert plain == {"encoding": "UCS-2", "segments": 1, "characters": 9, "text": "It’s here"}
    smart = json.loads(runner("segments", "--json", "--smart", "It’s here").stdout)
    assert smart == {"encoding": "GSM-7", "segments": 1, "characters": 9, "text": "It's here"}
    flag = json.loads(runner("segments", "--json", "🇬🇧").stdout)
    assert flag["characters"] == 1 and flag["encoding"] == "UCS-2"


def test_area_list_json_counts_active_subscribers(areas, runner, phone):
    import json

    phone(SAM).text("JOIN ELM")
    phone(PRIYA).text("JOIN ELM")
    phone(PRIYA).text("LEAVE ELM")
    listed = {row["slug"]: row for row in json.loads(runner("area", "list", "--json").stdout)}
    assert listed["elm"] == {**listed["elm"], "name": "Elm Street", "subscribers": 1, "private": False,
                             "moderation": "open"}


def test_area_add_rejects_bad_input_with_one_line(runner):
    bad_slug = runner("area", "add", "Elm Street!", "Elm", ok=False)
    assert bad_slug.exit_code != 0 and "lower-case" in bad_slug.output
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    duplicate = runner("area", "add", "elm", "Elm again", ok=False)
    assert "already exists" in duplicate.output
    taken = runner("area", "add", "other", "Other", "--postcode", "se6 1", ok=False)
    assert "already served" in taken.output
    zone = runner("area", "add", "mars", "Mars", "--timezone", "Mars/Olympus", ok=False)
    assert "not a time zone" in zone.output


def test_organiser_add_needs_a_real_number_and_area(areas, runner):
    assert "not a phone number" in runner("organiser", "add", "hello", "elm", ok=False).output
    assert "no area" in runner("organiser", "add", SAM, "nowhere", ok=False).output
    runner("organiser", "add", SAM, "elm")


def test_demo_seeds_once_with_drama_numbers_only(runner, app):
    from sms_board.models import Subscriber

    runner("demo")
    runner("demo")
    with session_of(app) as session:
        phones = session.scalars(select(Subscriber.phone)).all()
        assert phones and all(p.startswith("+447700900") for p in phones)
        assert len(phones) == len(set(phones))


def test_all_from_a_resident_is_ordinary_text(areas, phone, inbound_rows):
    sam = phone(SAM)
    sam.text("JOIN ELM")
    reply = sam.text("All fine here, thanks")
    assert reply and "an organiser will see" in reply[0]
    assert inbound_rows()[-1].handler == "inbox"


def test_consent_history_shows_every_step_with_its_words(areas, phone, runner):
    import json

    sam = phone(SAM)
    sam.text("JOIN ELM")
    sam.text("LEAVE ELM")
    sam.text("stop texting me")
    sam.text("START")
    history = json.loads(runner("consent", "07700900123", "--json").stdout)
    assert history["number"] == SAM and history["opted_out_at"] is None
    assert [(e["action"], e["words"]) for e in history["events"]] == [
        ("subscribe", "JOIN ELM"), ("leave", "LEAVE ELM"), ("opt_out", "stop texting me"), ("opt_in", "START")]
    assert history["events"][0]["wording"].startswith("Welcome to Elm Street")
    assert "never texted" in runner("consent", PRIYA, ok=False).output
