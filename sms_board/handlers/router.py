"""The keyword router: a registry of small handlers, tried in the order of SPEC §2.

Routing order:
1. the STOP family (never guessed by typo tolerance),
2. START/UNSTOP and HELP/INFO,
3. YES for a pending confirmation,
4. keywords, with one-typo tolerance,
5. relays between connected residents,
6. the organisers' inbox.

Stages 1–3, 5 and 6 are `@stage` functions that return True when they took the
text; stage 4 looks words up in the `@keyword` registry. A handler gets a
`Context` (the stored inbound message, the sender, a database session) and
adds replies or outbox rows to it; it never sees Flask and never sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources

from rapidfuzz.distance import OSA
from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community.moderation import can_see
from sms_board.config import Settings
from sms_board.models import Area, InboundMessage, Item, ItemKind, Organiser, OutboxKind, Subscriber
from sms_board.registry import DuplicateEntry, Registry, defined_in
from sms_board.sending.outbox import enqueue
from sms_board.texts import render
from sms_board.words import Ref, Words, parse_ref


@dataclass
class Context:
    session: Session
    settings: Settings
    inbound: InboundMessage
    subscriber: Subscriber
    words: Words
    now: datetime
    replies: list[str] = field(default_factory=list)
    handler: str = ""
    # A STOP confirmation is owed by carrier rules: it is never dropped by loop protection.
    mandatory_reply: bool = False

    def reply(self, template: str, /, **data: object) -> None:
        self.replies.append(render(template, **data))

    def notify(
        self, recipient: Subscriber, template: str, kind: OutboxKind = OutboxKind.NOTIFY, **data: object
    ) -> None:
        enqueue(self.session, self.settings, recipient, render(template, **data), kind, now=self.now)

    def file_in_inbox(self, area: Area | None = None) -> None:
        self.inbound.in_inbox = True
        if area is not None:
            self.inbound.area_id = area.id

    def find_item(self, token: str, kinds: set[ItemKind] | None = None) -> Item | None:
        """The item a token names, or None. A ref with the wrong letter for its item names nothing.

        Nor does one the sender may not see (a held post, another area's private item): it
        is as if it did not exist.
        """
        ref = parse_ref(token)
        if ref is None:
            return None
        item = self.session.get(Item, ref.number)
        if item is None:
            return None
        if ref.letter and ItemKind(item.kind).letter != ref.letter:
            return None
        if kinds and ItemKind(item.kind) not in kinds:
            return None
        return item if can_see(self.session, self.subscriber, item) else None

    def organiser_areas(self) -> list[Area]:
        return list(
            self.session.scalars(
                select(Area).join(Organiser, Organiser.area_id == Area.id).where(
                    Organiser.subscriber_id == self.subscriber.id
                ).order_by(Area.name)
            )
        )


Handler = Callable[[Context], None]
StageFunc = Callable[[Context], bool]


@dataclass(frozen=True)
class Keyword:
    name: str
    handler: Handler
    # Typo tolerance is never applied to words whose accidental match would do harm.
    fuzzy: bool = True


@dataclass(frozen=True)
class Stage:
    order: int
    name: str
    func: StageFunc


# Every spelling of every keyword (aliases included), and the stages a text goes through.
KEYWORDS: Registry[Keyword] = Registry("keyword", origin=lambda entry: defined_in(entry.handler))
STAGES: Registry[Stage] = Registry("stage", origin=lambda entry: defined_in(entry.func), distinct="order")

STOP_STAGE, START_HELP_STAGE, CONFIRM_STAGE, KEYWORD_STAGE, RELAY_STAGE, INBOX_STAGE = 10, 20, 30, 40, 50, 60

# Typo tolerance reaches this far, and only for keywords this long.
TYPO_EDITS = 1
TYPO_MIN_LENGTH = 4
EVERYDAY_WORDS_FILE = "everyday_words.txt"


def keyword(*names: str, fuzzy: bool = True) -> Callable[[Handler], Handler]:
    """Register a handler for one or more keywords (the first is its name in logs)."""

    def register(handler: Handler) -> Handler:
        entry = Keyword(names[0], handler, fuzzy)
        added: list[str] = []
        try:
            for name in names:
                KEYWORDS.add(name, entry)
                added.append(name)
        except DuplicateEntry:
            for name in added:  # all of its names or none
                KEYWORDS.remove(name)
            raise
        return handler

    return register


def stage(order: int, name: str) -> Callable[[StageFunc], StageFunc]:
    """Register a routing stage; a name or an order that is taken already is refused."""

    def register(func: StageFunc) -> StageFunc:
        STAGES.add(name, Stage(order, name, func))
        return func

    return register


def keywords() -> dict[str, Keyword]:
    return dict(KEYWORDS.items())


@cache
def everyday_words() -> frozenset[str]:
    """Common English words one edit from a keyword: "Lost cat" is not POST, "Same here" is not NAME.

    Generated by `make words` from the test suite's English word list; typo tolerance skips them.
    """
    text = resources.files(__package__).joinpath(EVERYDAY_WORDS_FILE).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _near_misses(word: str) -> dict[str, Keyword]:
    """The typo-tolerant keyword spellings (4+ letters) within one edit of `word`."""
    return {
        name: entry
        for name, entry in KEYWORDS.items()
        if entry.fuzzy and len(name) >= TYPO_MIN_LENGTH and OSA.distance(word, name, score_cutoff=TYPO_EDITS) <= TYPO_EDITS
    }


def lookup_keyword(word: str) -> Keyword | None:
    """Exact keyword, else the one keyword (4+ letters) within one edit; a swapped pair is one edit."""
    exact = KEYWORDS.get(word)
    if exact is not None:
        return exact
    if len(word) < 3 or word in everyday_words():
        return None
    near = {entry.name: entry for entry in _near_misses(word).values()}
    if len(near) == 1:
        return next(iter(near.values()))
    return None


def typo_neighbours(words: Iterable[str]) -> dict[str, set[str]]:
    """Which of `words` typo tolerance would weigh as misspellings, and of which keyword spellings.

    `make words` keeps the everyday words among them out of typo tolerance.
    """
    near: dict[str, set[str]] = {}
    for word in words:
        if word not in KEYWORDS and (hits := _near_misses(word)):
            near[word] = set(hits)
    return near


@stage(KEYWORD_STAGE, "keyword")
def _keyword_stage(ctx: Context) -> bool:
    entry = lookup_keyword(ctx.words.first)
    if entry is None:
        return False
    ctx.handler = entry.name.lower()
    entry.handler(ctx)
    return True


def route(ctx: Context) -> None:
    """Run the text through the stages until one takes it."""
    for entry in sorted(STAGES.values(), key=lambda entry: entry.order):
        ctx.handler = entry.name
        if entry.func(ctx):
            return
    raise RuntimeError("no stage took the text; the inbox stage must always take it")


def ref_or_hint(ctx: Context, usage: str, kinds: set[ItemKind] | None = None) -> Item | None:
    """The item named by the word after the keyword, or None after replying with how to use it."""
    token = ctx.words.tokens[1] if len(ctx.words) > 1 else ""
    item = ctx.find_item(token, kinds) if token else None
    if item is None:
        ref: Ref | None = parse_ref(token) if token else None
        ctx.reply("ref_hint", usage=usage, ref=str(ref) if ref else None)
    return item
