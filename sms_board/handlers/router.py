"""The keyword router: a registry of small handlers, tried in the order of docs/language.md, "The stages".

Routing order:
0. an opted-out number: ignored (kept for organisers) unless a stage below hears it,
1. the STOP family (never guessed by typo tolerance), and short texts that ask to stop,
2. START/UNSTOP, then HELP/INFO (answered even from an opted-out number),
3. YES for a pending confirmation, then a text that may be an emergency (`handlers.urgent`),
4. keywords, with one-typo tolerance for misspellings only,
5. relays between connected residents, and organisers answering a text that may be urgent (`U12 …`),
6. the organisers' inbox.

Stages 0–3, 5 and 6 are `@stage` functions that return True when they took the
text; stage 4 looks words up in the `@keyword` registry. A handler gets a
`Context` (the stored inbound message, the sender, a database session) and
adds replies or outbox rows to it; it never sees Flask and never sends. It
declares what the text did (`Context.did`, `Context.say`): whether it changed
something the resident asked for, which loop protection reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_board.community import alerts
from sms_board.community.languages import (
    choose,
    enqueue_in_their_language,
    knows_language,
    texts_for,
)
from sms_board.community.moderation import can_see
from sms_board.community.subscriptions import active_areas, active_areas_claiming_hint
from sms_board.models import (
    Area,
    Confirmation,
    InboundMessage,
    Item,
    ItemKind,
    Match,
    Organiser,
    OutboxKind,
    Response,
    Subscriber,
)
from sms_board.plumbing.config import Settings
from sms_board.plumbing.registry import DuplicateEntry, Registry, defined_in
from sms_board.text.languages import SOURCE_LANGUAGE, pack
from sms_board.text.templates import Said
from sms_board.text.words import Ref, Words, fold, parse_ref

HINT_EVERY = timedelta(days=1)  # how often a text kept for the organisers gets a hint


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
    # A STOP confirmation is owed by carrier rules, a "call 999" by common sense: never
    # dropped by loop protection.
    mandatory_reply: bool = False
    # Whether the text changed something the resident asked for (a post, a connection, a setting),
    # as its handler declares (`did`, `say`): the reply confirms it, so loop protection never withholds it.
    changed: bool = False
    # The confirmations this text let lapse (`forget`, `broadcast`): any text but YES does.
    lapsed: tuple[str, ...] = ()
    # A confirmation is pending and the pipeline left it to the handler (a BROADCAST naming a language may
    # add its version to the pending preview: `handlers.broadcast.names_a_version`). The handler settles it
    # and clears this; if no handler did, the pipeline lets it lapse after routing.
    pending_left: bool = False
    # Whether the text is a STOP: decided once, when it arrived (`inbound.text`), and carried here.
    stops: bool = False
    # Why the text was deliberately left unanswered and unhandled (an opted-out number), or "".
    ignored: str = ""
    # Who reads the replies when that is not `subscriber`: a trusted helper acting for them (`FOR ROSE …`,
    # handlers/trusted_helper.py). The replies go in the reader's language; the subscriber's own language
    # is never learnt from the reader's words.
    reader: Subscriber | None = None
    # Whether this very text opted the number out as it was stored (`handlers.stop.stopped_by_this_text`), once read.
    stopped_on_arrival: bool | None = None
    # For a STOP, whether the number has connections, offers or helpers for it to end (`handlers.stop.arrival_facts`,
    # read with the sender); None: not read, so looked for.
    ties_to_end: bool | None = None

    def ignore(self, reason: str) -> None:
        """The text is stored but not handled: no reply, and `reason` kept on it for organisers."""
        self.ignored = reason

    def learn_language(self, *, english: bool, guessed: str | None = None) -> None:
        """A keyword of one language sets the sender's language when it is not known yet (`YMUNO` → cy).

        `english`: the keyword was written as the English one itself (JOIN, not YMUNO read as JOIN);
        `guessed`: the language of the pack's keyword a misspelling was read as (YMNUO → cy).
        """
        if self.reader is not None or knows_language(self.settings, self.subscriber):
            return
        language = self.words.language or guessed or ("en" if english else None)
        if language in self.settings.languages:
            choose(self.session, self.subscriber, language, wording=self.words.original, channel="sms", now=self.now)

    def reply(self, template: str, /, **data: object) -> None:
        """Answer the sender in their language, or once in each of the board's while it is not known."""
        self.replies.extend(texts_for(self.settings, self.reader or self.subscriber, template, **data))

    def did(self, changed: bool = True) -> None:
        """Declare that the text changed something the resident asked for: a post, a connection, a
        setting, a YES. `changed`: a domain outcome's own say (`Outcome.changed`), passed on as it is.

        Only what the text was for counts: its own row, the inbox, the day's hint and lapsing
        confirmations do not (docs/language.md, "Loop protection").
        """
        self.changed = self.changed or changed

    def say(self, said: Said) -> None:
        """Answer with what a domain step decided to say, in the sender's language, and pass on what
        that step did (`did`)."""
        self.reply(said.template, **said.data)
        self.did(said.changed)

    def notify(
        self, recipient: Subscriber, template: str, kind: OutboxKind = OutboxKind.NOTIFY, *,
        about: Item | Response | Match | None = None, **data: object,
    ) -> None:
        """Queue a text to one person, and a copy to each of their trusted helpers (docs/helpers.md); `about`:
        what it announces (if that is withdrawn first, it never goes)."""
        enqueue_in_their_language(self.session, self.settings, recipient, template, kind, about=about, now=self.now,
                                  to_helpers=True, **data)

    def file_in_inbox(self, area: Area | None = None, *, among: list[Area] | None = None) -> None:
        """Keep the text for the organisers of `area`, else of the sender's one area (if they have one).

        `among`: the sender's areas, when the caller has read them already.
        """
        if area is None:
            areas = active_areas(self.session, self.subscriber) if among is None else among
            area = areas[0] if len(areas) == 1 else None
        self.inbound.in_inbox = True
        if area is not None:
            self.inbound.area_id = area.id

    def take_as_ordinary_text(self) -> None:
        """No keyword's text (the inbox stage's, or one a keyword hands on): kept, with a hint a day."""
        self.handler = "inbox"
        last = self.subscriber.last_hint_at
        if last is None or self.now - last >= HINT_EVERY:  # due as far as this text knows: claim it
            areas, hinted = active_areas_claiming_hint(self.session, self.subscriber, now=self.now, every=HINT_EVERY)
        else:
            areas, hinted = active_areas(self.session, self.subscriber), False
        self.file_in_inbox(among=areas)
        if hinted:
            self.reply("inbox_hint", joined=bool(areas))

    def raise_the_alarm(self) -> bool:
        """If the text may be an emergency: marked, the organisers told, and the "call 999" reply owed."""
        urgent = alerts.raise_the_alarm(self.session, self.settings, self.inbound, self.subscriber, self.words, self.now)
        self.mandatory_reply |= urgent
        return urgent

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
        if ref.letter and item.kind.letter != ref.letter:
            return None
        if kinds and item.kind not in kinds:
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
# What YES does, by the kind of confirmation pending (`Confirmation.action`, `community.confirmations`).
Action = Callable[[Context, Confirmation], None]


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
    # The words this stage reads before any keyword (STOP, START, YES): never keywords, never
    # guessed from a typo, but a typo one edit from one of them is ambiguous.
    words: frozenset[str] = frozenset()
    # The texts of an opted-out number this stage answers (START, HELP, YES, the STOP that opted
    # it out); every other text of such a number is ignored (`heard_though_opted_out`).
    hears_opted_out: StageFunc | None = None


# Every spelling of every keyword (aliases included), and the stages a text goes through.
KEYWORDS: Registry[Keyword] = Registry("keyword", origin=lambda entry: defined_in(entry.handler))
STAGES: Registry[Stage] = Registry("stage", origin=lambda entry: defined_in(entry.func), distinct="order")
CONFIRM_ACTIONS: Registry[Action] = Registry("confirm action")

(OPTED_OUT_STAGE, STOP_STAGE, START_HELP_STAGE, HELP_STAGE, CONFIRM_STAGE, URGENT_STAGE, KEYWORD_STAGE, RELAY_STAGE,
 ANSWER_STAGE, INBOX_STAGE) = (5, 10, 20, 25, 30, 35, 40, 50, 55, 60)

# Typo tolerance reaches this far, and only for keywords this long.
TYPO_EDITS = 1
TYPO_MIN_LENGTH = 4


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


def stage(
    order: int, name: str, words: Iterable[str] = (), *, hears_opted_out: StageFunc | None = None,
) -> Callable[[StageFunc], StageFunc]:
    """Register a routing stage (the words it reads, the texts of an opted-out number it answers);
    a name or an order that is taken already is refused."""

    def register(func: StageFunc) -> StageFunc:
        STAGES.add(name, Stage(order, name, func, frozenset(words), hears_opted_out))
        return func

    return register


def confirm_action(name: str) -> Callable[[Action], Action]:
    """Register what YES does for a pending confirmation of this kind (one action per kind)."""

    def register(func: Action) -> Action:
        return CONFIRM_ACTIONS.add(name, func)

    return register


def keywords() -> dict[str, Keyword]:
    return dict(KEYWORDS.items())


def everyday_words(codes: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> frozenset[str]:
    """Common words of the board's languages one edit from a keyword: "Lost cat" is not POST, "Same
    here" is not NAME, "Cangen" (a branch) is not ANGEN. English's count on every board.

    Each pack's `everyday_words.txt`, generated by `make words` from its word list; typo tolerance skips them.
    """
    return _current(codes).everyday


# Endings that make a keyword an ordinary English word: OFFERS, NAMES, LEAVES, POSTED, SHARING.
INFLECTIONS = ("S", "ES", "ED", "ING")


@dataclass(frozen=True)
class Spelling:
    """A word the router knows: a keyword's spelling, or a word a stage reads (`keyword` None)."""

    word: str
    meaning: str  # the keyword's name, or the stage's: what an edit of this word would be taken for
    keyword: Keyword | None
    # The pack the word is from (YMUNO: cy), and the English word it stands for (JOIN; ASK for
    # GOFYN); None for the English spellings themselves.
    language: str | None = None
    english: str | None = None
    tolerant: bool = True  # whether its language reads misspellings (a pack with a word list)

    @property
    def guessable(self) -> bool:
        """Whether a misspelling may be read as this word (never STOP, YES, FORGET, DONE or SHARE)."""
        return (self.tolerant and self.keyword is not None and self.keyword.fuzzy
                and len(self.word) >= TYPO_MIN_LENGTH)


@dataclass(frozen=True)
class _Vocabulary:
    """What the router works out from its registries and the board's packs once, and again only when they change."""

    spellings: tuple[Spelling, ...]
    words: tuple[str, ...]  # each spelling's word, in the same order (what the typo search compares)
    packs: dict[str, Spelling]  # a pack's word → its spelling (read exactly, as `Words.parse` reads it)
    inflected: frozenset[str]
    everyday: frozenset[str]  # the board's languages' everyday words one edit from a keyword
    stages: tuple[Stage, ...]  # in order


_vocabulary: dict[tuple[int, int, tuple[str, ...]], _Vocabulary] = {}


def _current(codes: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> _Vocabulary:
    """The router's vocabulary on a board speaking `codes`: English keywords, and each pack's own."""
    key = (KEYWORDS.version, STAGES.version, codes)
    found = _vocabulary.get(key)
    if found is None:
        stages = tuple(sorted(STAGES.values(), key=lambda entry: entry.order))
        english = _spellings()
        ours = _pack_spellings(codes, stages)
        spellings = tuple(english + ours)
        everyday = frozenset().union(*(pack(code).everyday_words() for code in dict.fromkeys((SOURCE_LANGUAGE, *codes))
                                       if pack(code).typo_tolerance))
        found = _Vocabulary(spellings, tuple(s.word for s in spellings), {s.word: s for s in ours},
                            _inflected({s.word for s in english}), everyday, stages)
        if any(version != key[:2] for version in (k[:2] for k in _vocabulary)):
            _vocabulary.clear()
        _vocabulary[key] = found
    return found


def _spellings() -> list[Spelling]:
    known = [Spelling(name, entry.name, entry) for name, entry in KEYWORDS.items()]
    known += [Spelling(word, entry.name, None) for entry in STAGES.values() for word in sorted(entry.words)]
    return known


def _pack_spellings(codes: tuple[str, ...], stages: tuple[Stage, ...]) -> list[Spelling]:
    """Each pack's words for a keyword (YMUNO) or a stage's word (STOPIO), as the English word's meaning."""
    stage_of = {word: entry.name for entry in stages for word in entry.words}
    found: list[Spelling] = []
    for code in codes:
        data = pack(code)
        for name, words in data.keywords.items():
            entry = KEYWORDS.get(name)
            meaning = entry.name if entry is not None else stage_of.get(name, name)
            found += [Spelling(fold(word), meaning, entry, code, name, data.typo_tolerance) for word in words]
    return found


def _inflected(words: Iterable[str]) -> frozenset[str]:
    forms: set[str] = set()
    for word in words:
        forms.update(word + ending for ending in INFLECTIONS)
        forms.update(word + word[-1] + ending for ending in ("ED", "ING"))  # STOPPED, CANCELLING
        if word.endswith("E"):
            forms.update((word + "D", word[:-1] + "ING"))  # CLOSED, CLOSING
    return frozenset(forms)


def known_spellings(codes: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> list[Spelling]:
    """Every word the router acts on: each keyword's spellings, the STOP family, START, YES…, and the packs' words."""
    return list(_current(codes).spellings)


def inflected_forms() -> frozenset[str]:
    """Every known word plus an ending (OFFERS, NAMES, LEAVES, POSTED, CLOSING, STOPPED): English, never typos."""
    return _current().inflected


def _near_misses(word: str, vocabulary: _Vocabulary) -> list[Spelling]:
    """Every known word within one edit of `word` (a swapped pair is one edit), in one search."""
    found = process.extract(word, vocabulary.words, scorer=OSA.distance, score_cutoff=TYPO_EDITS, limit=None)
    return [vocabulary.spellings[index] for _word, _distance, index in sorted(found, key=lambda hit: hit[2])]


def read_keyword(word: str, codes: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> Spelling | None:
    """The keyword spelling `word` is, or is a misspelling of, on a board speaking `codes`; None
    when it is neither (or it is not sure).

    A misspelling is read as a keyword only when `word` is not an everyday word of the board's
    languages (nor an English keyword with an ending) and exactly one thing the router knows lies
    within one edit of it, counting every keyword and every word a stage reads in every language
    of the board, and that one may be guessed (its language has a word list: typo tolerance on).
    """
    exact = KEYWORDS.get(word)
    if exact is not None:
        return Spelling(word, exact.name, exact)
    vocabulary = _current(codes)
    own = vocabulary.packs.get(word)
    if own is not None:
        return own if own.keyword is not None else None
    if len(word) < 3 or word in vocabulary.everyday or word in vocabulary.inflected:
        return None
    near = _near_misses(word, vocabulary)
    if len({spelling.meaning for spelling in near}) != 1:
        return None  # nothing near, or ambiguous: SHART is one edit from SHARE and from START
    guessable = [spelling for spelling in near if spelling.guessable]
    return guessable[0] if guessable else None


def lookup_keyword(word: str, codes: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> Keyword | None:
    """The keyword `word` is, or is a misspelling of (`read_keyword`); None when it is neither."""
    spelling = read_keyword(word, codes)
    return spelling.keyword if spelling is not None else None


def typo_neighbours(words: Iterable[str], codes: tuple[str, ...] = (SOURCE_LANGUAGE,)) -> dict[str, set[str]]:
    """Which of `words` typo tolerance would weigh as misspellings, and of which keyword spellings,
    on a board speaking `codes`.

    `make words` keeps the everyday words among them out of typo tolerance. A known word with
    an ending (OFFERS) is never weighed, so it needs no place in the list.
    """
    vocabulary = _current(codes)
    guessable = [spelling for spelling in vocabulary.spellings if spelling.guessable]
    if not guessable:
        return {}
    # No word further than one letter in length from every guessable spelling can be one edit from one.
    shortest = min(len(spelling.word) for spelling in guessable) - TYPO_EDITS
    longest = max(len(spelling.word) for spelling in guessable) + TYPO_EDITS
    near: dict[str, set[str]] = {}
    for word in words:
        if not shortest <= len(word) <= longest:
            continue
        if word in KEYWORDS or word in vocabulary.packs or word in vocabulary.inflected:
            continue
        if hits := {spelling.word for spelling in _near_misses(word, vocabulary) if spelling.guessable}:
            near[word] = hits
    return near


@stage(KEYWORD_STAGE, "keyword")
def _keyword_stage(ctx: Context) -> bool:
    spelling = read_keyword(ctx.words.first, ctx.settings.languages)
    if spelling is None or spelling.keyword is None:
        return False
    if spelling.english is not None and ctx.words.first != spelling.english:
        # A pack's keyword misspelt (YMNUO) is read as its English word, as the pack's own is (`Words.parse`).
        ctx.words = replace(ctx.words, tokens=(spelling.english, *ctx.words.tokens[1:]))
    ctx.handler = spelling.keyword.name.lower()
    ctx.learn_language(english=ctx.words.said in KEYWORDS, guessed=spelling.language)
    spelling.keyword.handler(ctx)
    return True


def heard_though_opted_out(ctx: Context) -> bool:
    """Whether some stage answers this text of an opted-out number (it opts back in, asks for HELP…)."""
    return any(entry.hears_opted_out(ctx) for entry in _current().stages if entry.hears_opted_out is not None)


def route(ctx: Context) -> None:
    """Run the text through the stages until one takes it; `ctx.changed` says whether it changed anything
    (as its handler declared), `ctx.ignored` why it was left unhandled."""
    for entry in _current().stages:
        ctx.handler = entry.name
        if entry.func(ctx):
            return
    raise RuntimeError("no stage took the text; the inbox stage must always take it")


def ref_or_hint(ctx: Context, usage: str, kinds: set[ItemKind] | None = None) -> Item | None:
    """The item named by the word after the keyword, or None after replying with how to use it.

    `usage` is the keyword whose use the hint gives (`"OK"`); `ref_hint` words it in the reader's language.

    Words after the keyword that are no ref at all ("No more chairs needed at the hall",
    "OK thanks, see you Thursday") are a message for a person: kept in the organisers' inbox too.
    """
    token = ctx.words.tokens[1] if len(ctx.words) > 1 else ""
    item = ctx.find_item(token, kinds) if token else None
    if item is None:
        ref: Ref | None = parse_ref(token) if token else None
        ctx.reply("ref_hint", usage=usage, ref=str(ref) if ref else None)
        if token and ref is None:
            ctx.file_in_inbox()
    return item
