"""Ids and page numbers from URLs, query strings and forms: only numbers the database can hold.

Every table's id is an `integer` (PostgreSQL's is 32 bits); a bigger number names no row,
yet handed to the database it is an error (`integer out of range`, SQLite's OverflowError),
and the visitor would see a 500. So an id in a path goes through `IdConverter`
(`<id:campaign_id>`, registered on the app as `id`): past `MAX_ID` the route does not
match, which is a 404. A page number in a query string goes through `page_number`.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:name>`: a whole number from 1 to `MAX_ID`; anything else is not found."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def page_number(raw: str | None) -> int:
    """`?page=`: 1 when absent or not a whole number; past `MAX_ID` it is `MAX_ID`, which every list
    turns into its last page (and the inbox, which counts no pages, into an empty one after its last)."""
    if not raw or not (raw.isascii() and raw.isdigit()):
        return 1
    return max(1, min(int(raw), MAX_ID))
