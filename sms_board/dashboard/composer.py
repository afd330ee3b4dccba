"""The broadcast composer's figures: the same calculator as `sms-board segments` and BROADCAST.

`measure` runs `broadcasts.preview_broadcast` (the function the BROADCAST keyword runs), so
the recipients, segments and cost the page shows as the organiser types are exactly the
preview an organiser gets by SMS; the encoding and segments come from `segments.py`
(`analyse`, `smart_encode`), measured on the text residents will receive, area name and
all. The page asks for these as JSON as the organiser types (`POST /dashboard/broadcast/measure`);
without JavaScript the preview step shows the same figures.

On a board of several languages the composer has a box per language: each version gets its own
figures (`figures`, its readers and cost from the same preview), and the whole broadcast its
totals and what readers of a language with no version get (`measure_versions`).

Of the characters that make a text UCS-2, a letter (of any language: Welsh "\u0175", Polish "\u0142")
is said to be kept as written and is never offered for a "fix"; only what is not a letter (an emoji,
a symbol with no plain look-alike) is offered for taking out (docs/dashboard.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import regex
from sqlalchemy.orm import Session

from sms_board.broadcast.billing import money
from sms_board.broadcast.broadcasts import (
    MAX_BROADCAST_SEGMENTS,
    Preview,
    Version,
    broadcast_body,
    confirm_broadcast,
    create_broadcast,
    preview_broadcast,
)
from sms_board.broadcast.campaign_lifecycle import Refusal, may_confirm
from sms_board.community.areas import areas_by_id
from sms_board.dashboard.progress import Progress, progress, visible_broadcast
from sms_board.dashboard.scope import Viewer
from sms_board.models import Area, Subscriber
from sms_board.plumbing.config import Settings
from sms_board.sending.outbox import prepare
from sms_board.sending.quiet import held_until
from sms_board.text.languages import SOURCE_LANGUAGE, pack
from sms_board.text.phrases import Foreign, Phrase, nphrase, phrase
from sms_board.text.segments import analyse, is_gsm7, is_letter, smart_encode
from sms_board.text.templates import render

MAX_TEXT = 1600  # what Twilio accepts in one message
_GRAPHEME = regex.compile(r"\X")
_PICTURE = regex.compile(r"\p{Extended_Pictographic}")


KEPT = phrase("a letter: kept as written")
TAKEN_OUT = phrase("no plain look-alike: \u201cUse plain characters\u201d takes it out")


@dataclass(frozen=True)
class Run:
    text: str
    forces_ucs2: bool
    letter: bool  # the characters that force UCS-2 here are letters, kept as written


@dataclass(frozen=True)
class Measure:
    characters: int  # in the organiser's words, as a person counts them
    encoding: str  # of the text residents receive
    segments: int
    body: str  # the text residents receive, smart-encoded
    runs: list[Run]  # the organiser's words, the characters that force UCS-2 marked
    forcing: list[str]  # those characters, each once
    why: list[tuple[str, Phrase]]  # each of them, and what becomes of it: KEPT (a letter) or TAKEN_OUT
    taken_out: list[str]  # those that are not letters: what "Use plain characters" takes out
    plain: str  # the words with plain punctuation, without what is neither a letter nor has a look-alike
    plain_segments: int
    save: int | None  # remove this many characters from the end to need one text fewer
    save_hint: Phrase | None  # how to need fewer texts, in words: take out the emoji, or shorten the end
    recipients: int
    cost: float
    cost_text: str
    too_long: bool  # over MAX_BROADCAST_SEGMENTS: it would be cut

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["runs"] = [[run.text, run.forces_ucs2, run.letter] for run in self.runs]
        data["why"] = [list(pair) for pair in self.why]
        return data


def _forces_ucs2(cluster: str) -> bool:
    return not is_gsm7(smart_encode(cluster))


def _removable(cluster: str) -> bool:
    """Forces UCS-2 and is not a letter: an emoji, or a symbol with no plain look-alike."""
    return _forces_ucs2(cluster) and not is_letter(cluster)


def runs_of(text: str) -> list[Run]:
    """The text in runs, marking the characters that keep it UCS-2 even after smart encoding, letters apart."""
    runs: list[Run] = []
    for cluster in _GRAPHEME.findall(text):
        forcing = _forces_ucs2(cluster)
        letter = forcing and is_letter(cluster)
        if runs and (runs[-1].forces_ucs2, runs[-1].letter) == (forcing, letter):
            runs[-1] = Run(runs[-1].text + cluster, forcing, letter)
        else:
            runs.append(Run(cluster, forcing, letter))
    return runs


def why_ucs2(text: str) -> list[tuple[str, Phrase]]:
    """Each character that makes `text` UCS-2, once, and what becomes of it: a letter is kept as written."""
    forcing = sorted({c for c in _GRAPHEME.findall(text) if _forces_ucs2(c)})
    return [(c, KEPT if is_letter(c) else TAKEN_OUT) for c in forcing]


_GONE = "\0"  # where a character with no plain look-alike was, until the gap is mended
_GAP = re.compile(r"[ \t]*\0(?:[ \t]*\0)*[ \t]*")
_SENTENCE_ENDS = ".!?"


def _mend(gap: re.Match[str]) -> str:
    """What stands where emoji were taken out: a full stop when they ended a sentence, else a space.

    Organisers use an emoji as punctuation ("…items only 🌿⏎Thanks, Ruth"); taken out, and the
    lines joined into one text as a broadcast does, that would read "…items only Thanks, Ruth".
    So an emoji after a word, before a line break or a capital letter, becomes a full stop, unless
    the sentence had only one word so far ("We 💚 Riverside" is one sentence).
    """
    before, after = gap.string[:gap.start()], gap.string[gap.end():]
    if not before or before.endswith("\n") or not after:
        return ""
    sentence = re.split(r"[.!?\n]", before)[-1].split()
    ends = before[-1].isalnum() and len(sentence) > 1
    if after.startswith("\n"):
        return "." if ends else ""
    return ". " if ends and after[0].isupper() else " "


def plain_equivalents(text: str) -> str:
    """GSM-7 look-alikes for what has them (curly quotes, dashes…), and nothing for what has none (emoji),
    without running two sentences or two words together where an emoji kept them apart (`_mend`).
    Letters are kept as written, whichever language they belong to."""
    kept = "".join(_GONE if _removable(c) else c for c in _GRAPHEME.findall(smart_encode(text)))
    mended = _GAP.sub(_mend, kept)
    lines = [" ".join(line.split()) for line in mended.split("\n")]
    # Smart-encoded again: without the emoji, "\u2026" may now be "..." in a text that became GSM-7.
    return smart_encode("\n".join(lines).strip())


def save_hint(taken_out: Sequence[str], segments: int, plain_segments: int, save: int | None) -> Phrase | None:
    """The one change that needs fewer texts, in words: taking out what forces UCS-2 and is not a letter
    (that is what costs), else shortening the end. "Remove 14 characters" would mean "remove the emoji".
    Never "remove the letters": a letter is kept as written."""
    if taken_out and plain_segments < segments:
        marks = " ".join(taken_out)
        if all(_PICTURE.match(c) for c in taken_out):
            return nphrase("Remove the emoji %(marks)s and it needs %(num)s text each instead of %(segments)s "
                           "(\u201cUse plain characters\u201d does it).",
                           "Remove the emoji %(marks)s and it needs %(num)s texts each instead of %(segments)s "
                           "(\u201cUse plain characters\u201d does it).", plain_segments, marks=marks, segments=segments)
        return nphrase("Remove the characters %(marks)s and it needs %(num)s text each instead of %(segments)s "
                       "(\u201cUse plain characters\u201d does it).",
                       "Remove the characters %(marks)s and it needs %(num)s texts each instead of %(segments)s "
                       "(\u201cUse plain characters\u201d does it).", plain_segments, marks=marks, segments=segments)
    if save:
        return nphrase("Remove %(num)s character from the end to save a text.",
                       "Remove %(num)s characters from the end to save a text.", save)
    return None


def _segments(areas: Sequence[Area], text: str, urgent: bool, language: str = SOURCE_LANGUAGE) -> int:
    return broadcast_body(areas, text, urgent=urgent, language=language).segments


def characters_to_save_one(areas: Sequence[Area], text: str, urgent: bool,
                           language: str = SOURCE_LANGUAGE) -> int | None:
    """The fewest characters to take off the end so the broadcast needs one text fewer."""
    clusters = _GRAPHEME.findall(text)
    now = _segments(areas, text, urgent, language)
    if now <= 1 or not clusters:
        return None
    low, high = 1, len(clusters)
    if _segments(areas, "".join(clusters[:-high]), urgent, language) >= now:
        return None
    while low < high:  # fewer clusters never need more texts, so the answer can be bisected
        middle = (low + high) // 2
        if _segments(areas, "".join(clusters[:-middle]), urgent, language) < now:
            high = middle
        else:
            low = middle + 1
    return low


def figures(settings: Settings, areas: Sequence[Area], version: Version, *, urgent: bool) -> Measure:
    """The figures of one version of a broadcast: its words, the text its readers receive, and their cost."""
    text, language = version.text, version.language or SOURCE_LANGUAGE
    runs = runs_of(text)
    plain = plain_equivalents(text)
    # Before `broadcast_body` cuts it to MAX_BROADCAST_SEGMENTS.
    uncut = prepare(render("broadcast_message", language, areas=list(areas), text=" ".join(text.split()),
                           urgent=urgent))
    too_long = uncut.segments > MAX_BROADCAST_SEGMENTS
    why = why_ucs2(text)
    taken_out = [c for c, note in why if note == TAKEN_OUT]
    plain_segments = _segments(areas, plain, urgent, language)
    save = None if too_long else characters_to_save_one(areas, text, urgent, language)
    return Measure(
        characters=analyse(text).characters,
        encoding=version.body.encoding,
        segments=version.segments,
        body=version.body.text,
        runs=runs,
        forcing=[c for c, _ in why],
        why=why,
        taken_out=taken_out,
        plain=plain,
        plain_segments=plain_segments,
        save=save,
        save_hint=save_hint(taken_out, version.segments, plain_segments, save),
        recipients=version.readers,
        cost=version.cost,
        cost_text=money(version.cost, settings),
        too_long=too_long,
    )


def measure(
    session: Session, settings: Settings, areas: Sequence[Area], text: str, *, urgent: bool,
    sender: Subscriber | None, preview: Preview | None = None,
) -> Measure:
    """The figures for one `text` to `areas`; pass the `preview` already made for this text to reuse its count."""
    text = text[:MAX_TEXT]
    preview = preview or preview_broadcast(session, settings, areas, text, urgent=urgent, sender=sender)
    # Everyone's copy, as the first language's readers receive it; the count and cost are the whole broadcast's.
    return replace(figures(settings, areas, preview.versions[0], urgent=urgent), recipients=preview.recipients,
                   cost=preview.cost, cost_text=money(preview.cost, settings))


@dataclass(frozen=True)
class Versions:
    """A broadcast written once per language, as the composer shows it: each version's figures, then the
    totals and what the preview by SMS says before YES (who gets every version, who gets another's)."""

    measures: dict[str, Measure]  # by language code, the board's first first; only the versions written
    names: dict[str, Foreign]  # each language of the board: its name in itself
    recipients: int
    texts: int
    cost: float
    cost_text: str
    notes: list[Phrase]  # who gets every version, and what readers of a language with no version get

    def as_json(self) -> dict[str, object]:
        return {"versions": {code: m.as_json() for code, m in self.measures.items()}, "names": self.names,
                "recipients": self.recipients, "texts": self.texts, "cost": self.cost, "cost_text": self.cost_text,
                "notes": self.notes,
                "summary": self.summary}

    @property
    def summary(self) -> Phrase:
        return phrase("In all: %(recipients)s recipients, %(texts)s texts, about %(cost)s",
                      recipients=self.recipients, texts=self.texts, cost=self.cost_text)


def measure_versions(
    session: Session, settings: Settings, areas: Sequence[Area], written: Mapping[str, str], *, urgent: bool,
    sender: Subscriber | None, preview: Preview | None = None,
) -> Versions:
    """The figures for a version per language (codes of the board, empty boxes left out)."""
    names = {code: Foreign(pack(code).name, pack(code).tag) for code in settings.languages}
    words = {code: text[:MAX_TEXT] for code, text in written.items() if text.strip()}
    if not words:
        return Versions({}, names, 0, 0, 0.0, money(0, settings), [])
    preview = preview or preview_broadcast(session, settings, areas, words, urgent=urgent, sender=sender)
    measures = {version.language: figures(settings, areas, version, urgent=urgent)
                for version in preview.versions if version.language}
    return Versions(measures, names, preview.recipients, preview.texts, preview.cost,
                    money(preview.cost, settings), version_notes(preview, names))


def version_notes(preview: Preview, names: Mapping[str, Foreign]) -> list[Phrase]:
    """What the SMS preview says besides the figures: who gets every version, and what the readers of a
    language with no version of its own get instead."""
    notes = []
    if preview.unknown and len(preview.versions) > 1:
        first = names.get(preview.versions[0].language or "", Foreign("", ""))
        notes.append(nphrase("%(num)s recipient whose language is not known gets every version, %(first)s first.",
                             "%(num)s recipients whose language is not known get every version, %(first)s first.",
                             preview.unknown, first=first))
    for code, readers in preview.uncovered:
        if preview.fallback:
            notes.append(nphrase("%(name)s: no version, so its %(num)s reader gets the %(other)s version.",
                                 "%(name)s: no version, so its %(num)s readers get the %(other)s version.",
                                 readers, name=names[code], other=names[preview.fallback]))
        else:
            notes.append(nphrase("%(name)s: no version, so its %(num)s reader gets every version.",
                                 "%(name)s: no version, so its %(num)s readers get every version.",
                                 readers, name=names[code]))
    return notes


def measure_draft(session: Session, settings: Settings, viewer: Viewer, area_ids: Sequence[int],
                  text: str | Mapping[str, str], *, urgent: bool) -> Measure | Versions:
    """`measure` (or `measure_versions`) for what the viewer has typed so far, to the areas they chose."""
    areas = areas_by_id(session, area_ids)
    sender = session.get(Subscriber, viewer.subscriber_id)
    if isinstance(text, str):
        return measure(session, settings, areas, text, urgent=urgent, sender=sender)
    return measure_versions(session, settings, areas, text, urgent=urgent, sender=sender)


@dataclass(frozen=True)
class Drafted:
    """A preview stored as a draft campaign (channel `web`), waiting for its writer's confirmation."""

    figures: Measure | Versions
    campaign_id: int
    held: datetime | None  # when it would go out, were it confirmed now at night


def draft_broadcast(session: Session, settings: Settings, viewer: Viewer, area_ids: Sequence[int],
                    text: str | Mapping[str, str], *, urgent: bool, now: datetime) -> Drafted | None:
    """BROADCAST's own preview step (`create_broadcast`); None, storing nothing, when nobody can be texted.

    `text`: one message, or (a board of several languages) the versions by language code.
    """
    areas = areas_by_id(session, area_ids)
    sender = session.get(Subscriber, viewer.subscriber_id)
    words: str | dict[str, str] = text if isinstance(text, str) else {
        code: words for code, words in text.items() if words.strip()}
    preview = preview_broadcast(session, settings, areas, words, urgent=urgent, sender=sender)
    if preview.recipients == 0:
        return None
    shown: Measure | Versions = (
        measure(session, settings, areas, words, urgent=urgent, sender=sender, preview=preview)
        if isinstance(words, str)
        else measure_versions(session, settings, areas, words, urgent=urgent, sender=sender, preview=preview))
    campaign = create_broadcast(session, preview, urgent=urgent, now=now, created_by=sender, channel="web")
    return Drafted(shown, campaign.id, held_until(now, settings, areas[0].timezone, urgent=urgent))


@dataclass(frozen=True)
class Confirmation:
    refused: Refusal | None  # YES's own refusal (`campaign_lifecycle.may_confirm`)
    unticked: bool  # an URGENT broadcast confirmed without its tick: nothing done
    after: Progress | None  # the broadcast's progress once confirmed


def confirm_draft(session: Session, settings: Settings, viewer: Viewer, campaign_id: int, *, urgent_ok: bool,
                  now: datetime) -> Confirmation | None:
    """Confirm a draft as YES does (`confirm_broadcast`); None when the viewer may not see it."""
    campaign = visible_broadcast(session, viewer, campaign_id)
    if campaign is None:
        return None
    sender = session.get(Subscriber, viewer.subscriber_id)
    # The URGENT tick is the form's own question, asked only of someone YES's rule lets confirm.
    if campaign.urgent and not urgent_ok and may_confirm(session, campaign, sender, now) is None:
        return Confirmation(None, True, None)
    refused = confirm_broadcast(session, campaign, now, confirmed_by=sender)
    return Confirmation(refused, False, progress(session, settings, campaign, now) if refused is None else None)
