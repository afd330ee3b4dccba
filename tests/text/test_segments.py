"""Segment counting, splitting, Smart Encoding and truncation, checked against carrier rules."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_board.text.segments import (
    GSM7,
    GSM7_BASIC,
    GSM7_EXTENSION,
    UCS2,
    SegmentInfo,
    analyse,
    fit,
    frame_segments,
    is_gsm7,
    smart_encode,
    split_segments,
    truncate_to_segments,
)

EMOJI = "\U0001f600"
FLAG_GB = "\U0001f1ec\U0001f1e7"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
ZHE = "\u0436"
EURO = "\u20ac"
CURLY_APOSTROPHE = "\u2019"
ELLIPSIS = "\u2026"

BASIC_AS_PUBLISHED = (
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9"
    " !\"#\u00a4%&'()*+,-./0123456789:;<=>?\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "\u00c4\u00d6\u00d1\u00dc\u00a7\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"
)

PART_LIMIT = {GSM7: 153, UCS2: 67}
SINGLE_LIMIT = {GSM7: 160, UCS2: 70}

# Mixes one- and two-unit characters of both encodings so packing boundaries get hit.
boundary_texts = st.lists(
    st.sampled_from(["a", " ", "\n", "\u00e9", EURO, "{", ZHE, EMOJI, FLAG_GB, CURLY_APOSTROPHE]),
    max_size=420,
).map("".join)
any_texts = st.one_of(boundary_texts, st.text(max_size=420))


def units(part: str, encoding: str) -> int:
    if encoding == GSM7:
        return sum(2 if ch in GSM7_EXTENSION else 1 for ch in part)
    return len(part.encode("utf-16-le")) // 2


# --- the character set --------------------------------------------------------------


def test_the_basic_set_is_the_published_127_characters_plus_escape():
    assert set(BASIC_AS_PUBLISHED) == GSM7_BASIC
    assert len(GSM7_BASIC) == 127


def test_the_extension_table_holds_exactly_ten_characters():
    assert set("\f^{}\\[~]|" + EURO) == GSM7_EXTENSION


@pytest.mark.parametrize("ch", ["`", "\u00e7", "\u00e1", "\x1b", "\t", ZHE, EMOJI, "\u2019"])
def test_characters_outside_both_tables_are_not_gsm7(ch):
    assert not is_gsm7(ch)
    assert analyse("plain " + ch).encoding == UCS2


def test_extension_characters_keep_a_message_in_gsm7():
    assert is_gsm7("{[~]}|^\\" + EURO + "\f")


# --- counting -----------------------------------------------------------------------


def test_the_empty_string_has_no_segments_and_no_parts():
    info = analyse("")
    assert (info.segments, info.characters, info.units) == (0, 0, 0)
    assert split_segments("") == []


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_gsm7_counts_160_alone_then_153_per_part(length, segments):
    info = analyse("a" * length)
    assert info.encoding == GSM7
    assert info.units == length
    assert info.segments == segments


@pytest.mark.parametrize(
    ("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_counts_70_alone_then_67_per_part(length, segments):
    info = analyse(ZHE * length)
    assert info.encoding == UCS2
    assert info.units == length
    assert info.segments == segments


def test_extension_characters_cost_two_septets():
    assert analyse(EURO * 80).units == 160
    assert analyse(EURO * 80).segments == 1
    assert analyse(EURO * 81).units == 162
    assert analyse(EURO * 81).segments == 2


def test_an_escape_pair_that_still_fits_a_single_message_is_not_split():
    info = analyse("a" * 152 + EURO)
    assert (info.units, info.segments) == (154, 1)


def test_an_escape_pair_is_never_split_across_parts():
    text = "a" * 152 + EURO + "b" * 10
    assert split_segments(text) == ["a" * 152, EURO + "b" * 10]


def test_an_escape_pair_that_fills_a_part_exactly_stays_in_it():
    text = "a" * 151 + EURO + "b" * 10
    assert split_segments(text) == ["a" * 151 + EURO, "b" * 10]


def test_a_wasted_septet_can_add_a_segment_that_ceil_division_would_miss():
    text = "a" * 152 + EURO + "a" * 152
    assert analyse(text).units == 306
    assert split_segments(text) == ["a" * 152, EURO + "a" * 151, "a"]
    assert analyse(text).segments == 3


def test_an_emoji_is_one_character_but_two_code_units():
    info = analyse(EMOJI)
    assert (info.encoding, info.characters, info.units, info.segments) == (UCS2, 1, 2, 1)


def test_a_flag_is_one_character_of_four_code_units():
    info = analyse(FLAG_GB)
    assert (info.characters, info.units) == (1, 4)


def test_a_zwj_family_is_one_character():
    info = analyse(FAMILY + " hi")
    assert info.characters == 4
    assert info.units == 3 * 2 + 2 + 3


@pytest.mark.parametrize("count", [66, 67, 68])
def test_a_surrogate_pair_in_a_single_message_counts_two_units(count):
    info = analyse(ZHE * count + EMOJI)
    assert info.units == count + 2
    assert info.segments == 1


def test_a_surrogate_pair_is_never_split_across_parts():
    text = ZHE * 66 + EMOJI + ZHE * 10
    assert split_segments(text) == [ZHE * 66, EMOJI + ZHE * 10]


def test_parts_fill_to_the_limit_before_a_surrogate_pair_moves_on():
    text = ZHE * 69 + EMOJI
    assert split_segments(text) == [ZHE * 67, ZHE * 2 + EMOJI]


def test_a_wasted_code_unit_can_add_a_segment_that_ceil_division_would_miss():
    text = ZHE * 66 + EMOJI + ZHE * 66
    assert analyse(text).units == 134
    assert analyse(text).segments == 3


def test_emoji_only_messages_pack_whole_pairs():
    assert analyse(EMOJI * 35).segments == 1
    assert [len(part) for part in split_segments(EMOJI * 36)] == [33, 3]


def test_one_curly_apostrophe_triples_a_150_character_message():
    text = "x" * 145 + " it" + CURLY_APOSTROPHE + "s"
    assert len(text) == 150
    assert analyse(text.replace(CURLY_APOSTROPHE, "'")).segments == 1
    info = analyse(text)
    assert (info.encoding, info.segments) == (UCS2, 3)
    assert analyse(smart_encode(text)) == analyse("x" * 145 + " it's")


def test_analyse_does_not_substitute():
    assert analyse("\u201chi\u201d").text == "\u201chi\u201d"


def test_as_dict_has_exactly_the_public_keys():
    assert analyse("hi \u00e9").as_dict() == {
        "encoding": GSM7,
        "segments": 1,
        "characters": 4,
        "text": "hi \u00e9",
    }


def test_segment_info_is_immutable():
    info = analyse("hi")
    assert isinstance(info, SegmentInfo)
    with pytest.raises(AttributeError):
        info.segments = 5  # type: ignore[misc]


def test_fit_compares_against_the_segment_count():
    assert fit("a" * 160, 1)
    assert not fit("a" * 161, 1)
    assert fit("a" * 161, 2)
    assert fit("", 0)
    assert not fit("a", 0)


@settings(deadline=None)
@given(any_texts)
def test_parts_rejoin_fit_their_limit_and_match_the_count(text):
    info = analyse(text)
    parts = split_segments(text)
    assert "".join(parts) == text
    assert info.segments == len(parts)
    limit = SINGLE_LIMIT[info.encoding] if len(parts) == 1 else PART_LIMIT[info.encoding]
    assert all(units(part, info.encoding) <= limit for part in parts)
    assert all(part for part in parts)


@settings(deadline=None)
@given(boundary_texts)
def test_greedy_parts_are_full_up_to_the_next_character(text):
    parts = split_segments(text)
    encoding = analyse(text).encoding
    for part, following in pairwise(parts):
        assert units(part + following[0], encoding) > PART_LIMIT[encoding]


# --- smart encoding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("\u201cHi\u201d", '"Hi"'),
        ("\u00abbonjour\u00bb \u201elos\u201f", '"bonjour" "los"'),
        ("it\u2019s \u2018ok\u2019 \u201bx \u2032 \u00b4 `", "it's 'ok' 'x ' ' '"),
        ("\u201aso\u2018", ",so'"),
        ("a\u2013b\u2014c\u2015d\u2212e\u2010f\u2011g\u2012h\u2043i", "a-b-c-d-e-f-g-h-i"),
        ("wait\u2026", "wait..."),
        ("a\u00a0b\u2002c\u2009d\u202fe\u205ff\u3000g\u1680h", "a b c d e f g h"),
        ("tab\there", "tab here"),
        ("zero\u200bwidth\u2060joined\ufeffsoft\u00adhyphen", "zerowidthjoinedsofthyphen"),
        ("\uff01 \uff11\uff12\uff13", "! 123"),
        ("\u2039a\u203a", "<a>"),
        ("\u2022 eggs", "- eggs"),
        ("\u00bd price \u00f7 2", "1/2 price / 2"),
        ("a\u00a6b \u02dc", "a|b ~"),
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),
        ("a\u200db", "ab"),
    ],
)
def test_smart_encode_maps_look_alikes_to_gsm7(given_text, expected):
    assert smart_encode(given_text) == expected
    assert is_gsm7(expected)


@pytest.mark.parametrize(
    "text",
    [
        EMOJI + " it's",
        FAMILY + " ok",
        FLAG_GB,
        "\u4f60\u597d",
        "\u041f\u0440\u0438\u0432\u0435\u0442",
        "\u2260",
        "\uff28\uff45\uff4c\uff4c\uff4f",  # fullwidth letters are letters (tests/text/test_letters.py)
        "\u02c6",  # a modifier letter, though it looks like a caret
    ],
)
def test_smart_encode_leaves_characters_without_a_gsm_equivalent(text):
    assert smart_encode(text) == text


def test_smart_encode_still_replaces_look_alikes_beside_an_emoji():
    assert smart_encode(EMOJI + " it\u2019s \u2014 ok\u00a0then") == EMOJI + " it's - ok then"


def test_smart_encode_never_lengthens_a_text_that_stays_ucs2():
    # "..." would be three code units where "\u2026" is one, and the text is UCS-2 either way.
    assert smart_encode(EMOJI + " it\u2019s \u00bd off\u2026") == EMOJI + " it's \u00bd off\u2026"
    assert smart_encode("it\u2019s \u00bd off\u2026") == "it's 1/2 off..."


def test_smart_encode_keeps_joiners_that_hold_an_emoji_together():
    assert smart_encode(FAMILY + " \u201cok\u201d") == FAMILY + ' "ok"'


def test_smart_encode_returns_gsm7_text_untouched():
    text = BASIC_AS_PUBLISHED + "".join(sorted(GSM7_EXTENSION))
    assert smart_encode(text) == text


@settings(deadline=None)
@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=300))
def test_smart_encode_is_the_identity_on_gsm7(text):
    assert smart_encode(text) == text


@settings(deadline=None)
@given(any_texts)
def test_smart_encode_is_idempotent(text):
    once = smart_encode(text)
    assert smart_encode(once) == once


# --- truncation ---------------------------------------------------------------------


def test_truncate_returns_a_fitting_text_unchanged():
    assert truncate_to_segments("a" * 160, 1) == "a" * 160
    assert truncate_to_segments("", 0) == ""


def test_truncate_keeps_the_longest_gsm7_prefix_with_three_dots():
    assert truncate_to_segments("x" * 500, 1) == "x" * 157 + "..."
    assert truncate_to_segments("x" * 500, 2) == "x" * 303 + "..."


def test_truncate_uses_the_ellipsis_character_in_ucs2():
    assert truncate_to_segments(ZHE * 500, 1) == ZHE * 69 + ELLIPSIS
    assert truncate_to_segments(ZHE * 500, 2) == ZHE * 133 + ELLIPSIS


def test_truncate_does_not_let_a_dropped_emoji_force_ucs2():
    assert truncate_to_segments("a" * 300 + EMOJI, 1) == "a" * 157 + "..."


def test_truncate_cuts_at_a_word_boundary_in_the_last_20_characters():
    result = truncate_to_segments("word " * 100, 1)
    assert result == " ".join(["word"] * 31) + "..."


def test_truncate_cuts_mid_word_when_no_space_is_near():
    result = truncate_to_segments("a " + "b" * 300, 1)
    assert result == "a " + "b" * 155 + "..."


def test_truncate_never_splits_a_flag():
    result = truncate_to_segments(FLAG_GB * 40, 1)
    assert result == FLAG_GB * 17 + ELLIPSIS


def test_truncate_accepts_a_custom_marker_and_counts_its_extension_characters():
    assert truncate_to_segments("x" * 200, 1, marker=" (more)") == "x" * 153 + " (more)"
    assert truncate_to_segments("x" * 200, 1, marker=" [more]") == "x" * 151 + " [more]"


def test_truncate_refuses_zero_segments_for_a_non_empty_text():
    with pytest.raises(ValueError):
        truncate_to_segments("hello", 0)


def test_truncate_refuses_a_marker_that_cannot_fit():
    with pytest.raises(ValueError):
        truncate_to_segments("x" * 200, 1, marker="y" * 161)


@settings(deadline=None)
@given(any_texts, st.integers(min_value=1, max_value=4))
def test_truncated_text_fits_and_ends_with_the_marker(text, max_segments):
    result = truncate_to_segments(text, max_segments)
    assert fit(result, max_segments)
    if fit(text, max_segments):
        assert result == text
        return
    marker = "..." if result.endswith("...") else ELLIPSIS
    assert result.endswith(marker)
    assert text.startswith(result[: -len(marker)])


@settings(deadline=None)
@given(st.text(alphabet=["a", EURO, ZHE, EMOJI], min_size=1, max_size=600), st.integers(1, 3))
def test_truncation_without_spaces_keeps_the_longest_prefix(text, max_segments):
    result = truncate_to_segments(text, max_segments)
    if result == text:
        return
    marker = "..." if result.endswith("...") else ELLIPSIS
    kept = len(result) - len(marker)
    longer = text[: kept + 1]
    assert not fit(longer + ("..." if is_gsm7(longer) else ELLIPSIS), max_segments)


def test_a_part_cut_to_fit_its_frame_is_measured_with_the_frame_and_returned_alone():
    frame = "For Rose: {page}\n+2 more: text FOR Rose MORE"
    mark_and_more = len(frame) - len("{page}")
    part = truncate_to_segments("x" * 500, 1, within=frame)
    assert part == "x" * (160 - mark_and_more - 3) + "..."
    assert truncate_to_segments("short", 1, within=frame) == "short"
    # The frame's letters decide the encoding: with a ŵ in it the page is UCS-2, and "…" costs one unit.
    welsh = "For Gwŵen: {page}"
    assert truncate_to_segments("x" * 500, 1, within=welsh) == "x" * (70 - len("For Gwŵen: ") - 1) + "\u2026"


def test_a_frame_that_alone_overflows_says_how_many_segments_it_needs():
    frame = "For " + "Gwenllian Ŵyn ap Rhodri ab Owain Llwyd" + ": {page}\n+1 more: text FOR H1 MORE"
    assert frame_segments(frame) == 2 and frame_segments("{page}") == 1
    with pytest.raises(ValueError):
        truncate_to_segments("Jumble sale", 1, within=frame)
    cut = truncate_to_segments("Jumble sale at the church hall on Saturday, ten till four " * 3, 2, within=frame)
    assert fit(frame.replace("{page}", cut), 2) and cut.startswith("Jumble sale") and cut.endswith("\u2026")
    with pytest.raises(ValueError):
        truncate_to_segments("x", 1, within="no place for the part")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=60), st.integers(min_value=1, max_value=3))
def test_a_part_cut_within_a_frame_always_fits_it(text, name, budget):
    frame = f"For {name.replace('{page}', '')}: {{page}}"
    room = max(budget, frame_segments(frame))
    cut = truncate_to_segments(text, room, within=frame)
    assert fit(frame.replace("{page}", cut, 1), room)
