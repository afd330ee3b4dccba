"""Which version of a broadcast each reader gets: one rule, read by the preview's count and the fan-out's join.

A broadcast is stored as its versions (`CampaignVersion`), in the board's language order:

- **One text for everyone** (`BROADCAST <text>`; `Campaign.by_language` false): a version for each of
  the board's languages, each holding the organiser's words as written under that language's fixed
  words (the area's name, "URGENT -"). A reader gets their language's; one whose language is not known
  gets the first language's. One text each.
- **One version per language** (`BROADCAST CY …` then `BROADCAST EN …`, `--version`, the composer's
  boxes): a reader gets the version of their language; a reader of a language the organiser wrote no
  version for gets the board's first language's version when there is one, else every version; one
  whose language is not known gets every version, the first language first.
- A broadcast stored before versions has one version for every reader (`language` None).

Someone whose language is one the board no longer speaks counts as not known, as everywhere else
(`community.languages.reading`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import ColumnElement, and_, case, false, null, or_

from sms_board.models import CampaignVersion, Subscriber


def versions_for(
    group: str | None, languages: Sequence[str | None], first: str, *, by_language: bool
) -> tuple[int, ...]:
    """The positions (in `languages`, the versions' languages in order) of the versions a reader of
    `group` gets; `group` None: their language is not known. `first`: the board's first language."""
    if None in languages:
        return (languages.index(None),)
    if group is not None and group in languages:
        return (languages.index(group),)
    if not by_language:
        return (0,)
    if group is not None and first in languages:
        return (languages.index(first),)
    return tuple(range(len(languages)))


def reader_group(board: Sequence[str]) -> ColumnElement[str | None]:
    """A subscriber's group for `versions_for`: their language when the board speaks it, else NULL."""
    return case((Subscriber.language.in_(list(board)), Subscriber.language), else_=null())


def readers(
    counts: Mapping[str | None, int],
    languages: Sequence[str | None],
    board: Sequence[str],
    *,
    by_language: bool,
) -> list[int]:
    """How many people get each version, from how many there are in each group (`reader_group`)."""
    per = [0] * len(languages)
    for group, count in counts.items():
        for position in versions_for(group, languages, board[0], by_language=by_language):
            per[position] += count
    return per


def gets_version(
    board: Sequence[str], languages: Sequence[str | None], *, by_language: bool
) -> ColumnElement[bool]:
    """`versions_for` as the condition joining `subscribers` to a campaign's `campaign_versions`.

    Built from the same rule for each position, so what the fan-out writes is what the preview counted.
    """
    not_known = or_(Subscriber.language.is_(None), Subscriber.language.not_in(list(board)))
    clauses = []
    for position in range(len(languages)):
        groups = [
            group
            for group in (*board, None)
            if position in versions_for(group, languages, board[0], by_language=by_language)
        ]
        known = [group for group in groups if group is not None]
        reads = [
            *([Subscriber.language.in_(known)] if known else []),
            *([not_known] if None in groups else []),
        ]
        if reads:
            clauses.append(and_(CampaignVersion.position == position, or_(*reads)))
    return or_(*clauses) if clauses else false()
