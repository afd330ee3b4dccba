"""The public pages and the dashboard in every language of the board (docs/translations.md).

A Welsh council's board (`SMS_BOARD_LANGUAGES=cy,en`) answers every page in Welsh, its first
language, unless the browser asks for English or the visitor chose it with the language link
(remembered in a cookie, through sign-in); a board of one language shows no link. The public pages'
heading and how to join are in every language, the first first. A subscriber's language is shown
on the subscribers page and an organiser may change it, kept in their language history.

Every page's words are in each pack's `web.po`: a word missing, fuzzy or stale fails here, as a
text's does in `tests/text/test_language_packs.py`; a pseudo-language (every translation in ⟦ ⟧)
walks every page and finds no English outside what translators see.
"""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import time_machine
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from sqlalchemy import func, select

from sms_board import create_app
from sms_board.app import board_of
from sms_board.models import InboundMessage, Item, LanguageChoice, Subscriber
from sms_board.text import languages
from sms_board.text.languages import UnknownLanguage
from tests.conftest import Phone, Runner, app_config, development_board, session_of
from tests.support import catalogs, pseudo
from tests.support.web import csrf_token, sign_in, submit

RUTH, ADMIN = "+447700900001", "+447700900002"
SAM, PRIYA, JOE = "+447700900123", "+447700900456", "+447700900789"
TRANSLATED = [code for code in languages.available() if code != languages.SOURCE_LANGUAGE]


@pytest.fixture
def app(db, tmp_path):  # type: ignore[no-untyped-def]
    """A Welsh council's development board (so the simulator's page is there too)."""
    return development_board(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en")


def settle(runner, phone) -> None:  # type: ignore[no-untyped-def]
    """Ruth organises Elm Street (texting in English); Sam joined in Welsh, Priya in English, Joe by the oak."""
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 2")
    runner("organiser", "add", RUTH, "elm")
    runner("admin", "add", ADMIN)
    for number, join, name in [
        (SAM, "YMUNO ELM", "ENW Sam"),
        (PRIYA, "JOIN ELM", "NAME Priya"),
        (JOE, "JOIN OAK", "NAME Joe"),
        (RUTH, "JOIN ELM", "NAME Ruth"),
        (ADMIN, "JOIN OAK", "NAME Ada"),
    ]:
        phone(number).text(join)
        phone(number).text(name)
    phone(SAM).text("ANGEN Lifft i'r feddygfa ddydd Iau")
    phone(PRIYA).text("is the bin day changing")


@pytest.fixture
def street(runner, phone):  # type: ignore[no-untyped-def]
    settle(runner, phone)


def title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found, page[:300]
    return found.group(1).strip()


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', page)
    assert found, page[:200]
    return found.group(1)


def language_links(page: str) -> list[tuple[str, str, str]]:
    """The language link(s): (href, lang, words)."""
    nav = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', page, re.S)
    if nav is None:
        return []
    return [
        (html.unescape(href), lang, words)
        for href, lang, words in re.findall(
            r'<a href="([^"]+)" lang="([^"]+)" hreflang="[^"]+">([^<]+)</a>', nav.group(1)
        )
    ]


def web_catalog(code: str):  # type: ignore[no-untyped-def]
    return languages.pack(code).page_translations()


# ── every page in Welsh ──────────────────────────────────────────────────────

PUBLIC_PAGES = ["/", "/board/elm", "/login", "/simulator", "/no-such-page"]
DASHBOARD_PAGES = [
    "/dashboard",
    "/dashboard/inbox",
    "/dashboard/inbox?show=all",
    "/dashboard/moderation",
    "/dashboard/subscribers",
    "/dashboard/subscribers/import",
    "/dashboard/exchange",
    "/dashboard/admin",
    "/dashboard/admin/audit",
]


def test_every_page_answers_in_the_boards_first_language_unless_the_browser_asks_for_another(
    app, street
):
    welsh, english = app.test_client(), app.test_client()
    for path in [*PUBLIC_PAGES, "sign in", *DASHBOARD_PAGES]:
        if path == "sign in":
            sign_in(welsh, ADMIN)
            sign_in(english, ADMIN)
            continue
        cy = welsh.get(path)
        en = english.get(path, headers={"Accept-Language": "en-GB,en;q=0.8"})
        assert cy.status_code == en.status_code and cy.status_code in (200, 404), (
            path,
            cy.status_code,
        )
        cy_page, en_page = cy.get_data(as_text=True), en.get_data(as_text=True)
        assert html_lang(cy_page) == "cy" and html_lang(en_page) == "en-GB", path
        assert title(cy_page) != title(en_page), (path, title(cy_page))
        assert language_links(cy_page) == [
            (f"{path}{'&' if '?' in path else '?'}lang=en", "en-GB", "English")
        ]
        assert language_links(en_page) == [
            (f"{path}{'&' if '?' in path else '?'}lang=cy", "cy", "Cymraeg")
        ]
        assert {"Accept-Language", "Cookie"} <= set(cy.vary), path
    # The dashboard's navigation, in Welsh.
    overview = welsh.get("/dashboard").get_data(as_text=True)
    assert (
        f">{web_catalog('cy').gettext('Subscribers')}</a>" in overview
        and ">Subscribers</a>" not in overview
    )


def test_the_sign_in_pages_and_their_refusals_are_in_welsh(app, street):
    client = app.test_client()
    refused = submit(client, "/login", "/login", {"number": "not a number"})
    assert refused.status_code == 400
    assert web_catalog("cy").gettext(
        "That is not a phone number. Write it as 07700 900123 or +44 7700 900123."
    ) in refused.get_data(as_text=True)
    asked = submit(client, "/login", "/login", {"number": RUTH})
    assert asked.status_code == 302
    code_page = client.get("/login/code").get_data(as_text=True)
    assert html_lang(code_page) == "cy" and "+44 7•••• ••001" in code_page
    wrong = submit(client, "/login/code", "/login/code", {"code": "000000"}).get_data(as_text=True)
    assert html_lang(wrong) == "cy" and "That code is not right" not in wrong


def test_a_visitors_choice_is_remembered_through_sign_in_and_a_language_the_board_does_not_speak_is_ignored(
    app, street
):
    client = app.test_client()
    assert (
        html_lang(client.get("/", headers={"Accept-Language": "pl"}).get_data(as_text=True)) == "cy"
    ), "Polish is not a language of this board: its first language"
    chosen = client.get("/?lang=en")
    assert html_lang(chosen.get_data(as_text=True)) == "en-GB"
    cookie = client.get_cookie("sms_board_lang")
    assert cookie is not None and cookie.value == "en" and cookie.http_only
    assert html_lang(client.get("/board/elm").get_data(as_text=True)) == "en-GB"
    assert html_lang(client.get("/?lang=pl").get_data(as_text=True)) == "en-GB"
    sign_in(client, RUTH)  # signing in starts a new session: the language stays
    assert html_lang(client.get("/dashboard").get_data(as_text=True)) == "en-GB"
    assert html_lang(client.get("/dashboard/inbox?lang=cy").get_data(as_text=True)) == "cy"
    assert (
        html_lang(
            client.get("/dashboard/exchange", headers={"Accept-Language": "en"}).get_data(
                as_text=True
            )
        )
        == "cy"
    ), "a choice made on the page wins over the browser's"


def test_the_language_link_keeps_the_page_and_after_a_form_goes_to_a_page_that_can_be_asked_for(
    app, street
):
    client = app.test_client()
    sign_in(client, ADMIN)
    [(href, _lang, _words)] = language_links(
        client.get("/dashboard/inbox?show=all").get_data(as_text=True)
    )
    assert href == "/dashboard/inbox?show=all&lang=en"
    followed = client.get(href).get_data(as_text=True)
    assert html_lang(followed) == "en-GB" and "Show only those to deal with" in followed
    client.get("/?lang=cy")
    refused = submit(
        client,
        "/dashboard/admin",
        "/dashboard/admin/areas",
        {"name": "Birch", "slug": "Not A Slug"},
    )
    assert refused.status_code == 400
    assert language_links(refused.get_data(as_text=True))[0][0] == "/dashboard?lang=en"


def phone_of(app):  # type: ignore[no-untyped-def]
    """`phone(number)` texting this app (a board made in the test, not the module's Welsh one)."""
    client = app.test_client()
    return lambda number: Phone(client, number)


def test_a_board_of_one_language_shows_no_language_link_and_reads_no_choice(db, tmp_path):
    app = create_app(app_config(db, tmp_path))
    Runner(app)("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    client = app.test_client()
    for path in ("/", "/board/elm", "/login", "/?lang=cy"):
        answer = client.get(path, headers={"Accept-Language": "cy"})
        page = answer.get_data(as_text=True)
        assert (
            html_lang(page) == "en-GB"
            and language_links(page) == []
            and 'class="languages"' not in page
        )
        assert '<h1><span lang="en-GB">Neighbourhood board</span></h1>' in page or path.startswith(
            ("/board", "/login")
        )
    assert client.get_cookie("sms_board_lang") is None


# ── the public pages: their first language first ─────────────────────────────


def test_the_public_pages_heading_and_how_to_join_are_in_every_language_the_first_first(
    app, street, runner
):
    runner("area", "add", "llan", "Llanfair", "--postcode", "LL61", "--languages", "cy")
    client = app.test_client()
    home = client.get("/?lang=en").get_data(as_text=True)
    welsh_name = web_catalog("cy").gettext("Neighbourhood board")
    assert welsh_name != "Neighbourhood board"
    assert (
        f'<h1><span lang="cy">{welsh_name}</span> · <span lang="en-GB">Neighbourhood board</span></h1>'
        in home
    )

    board = client.get("/board/elm").get_data(as_text=True)
    joining = re.findall(r'<p lang="([^"]+)">(.*?)</p>', board, re.S)
    assert [tag for tag, _ in joining] == ["cy", "en-GB"]
    assert "<code>YMUNO ELM</code>" in joining[0][1] and "07700 900000" in joining[0][1]
    assert joining[1][1].startswith("Text <code>JOIN ELM</code> to")
    only_welsh = client.get("/board/llan").get_data(as_text=True)
    assert [tag for tag, _ in re.findall(r'<p lang="([^"]+)">(.*?)</p>', only_welsh, re.S)] == [
        "cy"
    ]


def test_dates_and_numbers_are_written_the_pages_way(db, tmp_path):
    app = create_app(
        app_config(db, tmp_path, SMS_BOARD_LANGUAGES="pl,en", SMS_BOARD_MONTHLY_SEGMENT_CAP="12000")
    )
    runner, phone = Runner(app), phone_of(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("admin", "add", ADMIN)
    with time_machine.travel(datetime(2025, 12, 3, 14, 5, tzinfo=UTC), tick=False):
        phone(ADMIN).text("JOIN ELM")
        phone(SAM).text("DOŁĄCZ ELM")
        phone(SAM).text("czy śmieci w środę?")
    client = app.test_client()
    sign_in(client, ADMIN)
    inbox = client.get("/dashboard/inbox?show=all").get_data(as_text=True)
    assert html_lang(inbox) == "pl" and "3 gru 14:05" in inbox and "3 Dec" not in inbox
    overview = client.get("/dashboard").get_data(as_text=True)
    assert "12\xa0000" in overview and "12,000" not in overview
    english = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "12,000" in english


def test_words_the_board_writes_for_a_page_are_in_its_language(app, street):
    client = app.test_client()
    sign_in(client, ADMIN)
    welsh = web_catalog("cy")
    inbox = client.get("/dashboard/inbox").get_data(as_text=True)
    assert welsh.gettext("Not understood") in inbox and "Not understood" not in inbox
    refused = submit(
        client,
        "/dashboard/admin",
        "/dashboard/admin/areas",
        {"name": "Birch", "slug": "Not A Slug"},
    )
    page = refused.get_data(as_text=True)
    assert (
        welsh.gettext("use lower-case letters, digits and hyphens, e.g. elm or elm-street.") in page
    )
    assert "use lower-case letters" not in page
    board = client.get("/board/elm").get_data(as_text=True)
    assert f">{welsh.gettext('Help needed')}</h2>" in board


def test_the_composer_its_preview_and_a_broadcasts_progress_are_in_welsh(app, street):
    client = app.test_client()
    sign_in(client, RUTH)
    welsh = web_catalog("cy")
    page = client.get("/dashboard/broadcast").get_data(as_text=True)
    assert html_lang(page) == "cy" and '<main id="main">' in page
    assert f"<h1>{welsh.gettext('Write a broadcast')}</h1>" in page
    assert '<label for="text-en">Neges yn <span lang="en-GB">English</span> (EN)</label>' in page
    token = csrf_token(client, "/dashboard/broadcast")
    measured = client.post(
        "/dashboard/broadcast/measure",
        json={"areas": ["elm"], "versions": {"cy": "D\u0175r wedi ei ddiffodd"}},
        headers={"X-CSRFToken": token},
    ).json
    assert measured["versions"]["cy"]["why"] == [["\u0175", welsh.gettext("a letter: kept as written")]]
    assert measured["versions"]["cy"]["summary"].startswith("1 neges yr un, UCS-2")
    assert measured["summary"].startswith("I gyd: ")
    assert measured["notes_html"] == [
        '<span lang="en-GB">English</span>: dim fersiwn, felly mae ei 1 darllenydd yn cael y fersiwn '
        '<span lang="cy">Cymraeg</span>.'
    ]
    shown = client.post(
        "/dashboard/broadcast/preview",
        data={"csrf_token": token, "area": "elm", "text-cy": "D\u0175r wedi ei ddiffodd"},
    ).get_data(as_text=True)
    assert f"<h1>{welsh.gettext('Check before sending')}</h1>" in shown
    assert '<h2 id="h-cy"><span lang="cy">Cymraeg</span> (CY): 2 derbynnydd</h2>' in shown
    campaign = int(re.search(r"/dashboard/broadcasts/(\d+)/confirm", shown).group(1))
    confirmed = client.post(
        f"/dashboard/broadcasts/{campaign}/confirm", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert welsh.gettext("Confirmed: the board starts sending within a minute.") in html.unescape(confirmed)
    assert f'<strong data-progress="status">{welsh.gettext("confirmed")}</strong>' in html.unescape(confirmed)
    progress = client.get(f"/dashboard/broadcasts/{campaign}/progress").json
    assert progress["state"] == welsh.gettext("confirmed") and progress["shown"]["queued"] == "0"
    missing = client.get("/dashboard/broadcasts/999999")
    assert missing.status_code == 404 and '<main id="main">' in missing.get_data(as_text=True)


def test_a_language_of_the_board_without_its_pages_catalog_stops_the_board_at_start(
    db, tmp_path, monkeypatch
):
    with (
        pseudo.pseudo_pack(tmp_path, monkeypatch, "ru", web=False),
        pytest.raises(UnknownLanguage, match=re.escape("translations/ru/LC_MESSAGES/web.po")),
    ):
        create_app(app_config(db, tmp_path, SMS_BOARD_LANGUAGES="ru,en"))


# ── a subscriber's language on the subscribers page ──────────────────────────


def language_cells(page: str) -> dict[str, str]:
    """Each row's masked number → the language its select shows."""
    rows = re.findall(r"<tr><td style=\"white-space: nowrap\">([^<]+)</td>(.*?)</tr>", page, re.S)
    shown = {}
    for number, rest in rows:
        selected = re.search(
            r'<option value="[^"]*"(?: lang="[^"]+")? selected>([^<]+)</option>', rest
        )
        shown[number] = selected.group(1) if selected else ""
    return shown


def choices(app, number: str) -> list[LanguageChoice]:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        person = session.scalar(select(Subscriber).where(Subscriber.phone == number))
        return list(
            session.scalars(
                select(LanguageChoice)
                .where(LanguageChoice.subscriber_id == person.id)
                .order_by(LanguageChoice.id)
            )
        )


def language_of(app, number: str) -> str | None:  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        return session.scalar(select(Subscriber.language).where(Subscriber.phone == number))


def change_language(client, subscriber_number: str, app, language: str, **extra):  # type: ignore[no-untyped-def]
    with session_of(app) as session:
        person_id = session.scalar(
            select(Subscriber.id).where(Subscriber.phone == subscriber_number)
        )
    return submit(
        client,
        "/dashboard/subscribers",
        f"/dashboard/subscribers/{person_id}/language",
        {"language": language, "back": "/dashboard/subscribers?state=active", **extra},
    )


def test_the_subscribers_page_shows_each_ones_language_and_not_known_for_an_imported_list(
    app, street, runner, tmp_path
):
    listed = tmp_path / "list.csv"
    listed.write_text(
        "number,area,name,consent_source\n07700 900555,elm,Bea,paper form at the fair\n",
        encoding="utf-8",
    )
    runner("subscribers", "import", str(listed))
    client = app.test_client()
    sign_in(client, RUTH)
    page = client.get("/dashboard/subscribers?lang=en").get_data(as_text=True)
    assert '<th scope="col">Language</th>' in page
    assert language_cells(page) == {
        "+44 7•••• ••555": "not known",
        "+44 7•••• ••001": "English",
        "+44 7•••• ••456": "English",
        "+44 7•••• ••123": "Cymraeg",
    }
    assert 'aria-label="Language of +44 7•••• ••123"' in page


def test_an_organiser_changes_a_language_and_it_is_kept_with_who_did_it_and_texts_follow_it(
    app, street, runner, phone
):
    client = app.test_client()
    sign_in(client, RUTH)
    changed = change_language(client, SAM, app, "en")
    assert (
        changed.status_code == 302
        and changed.headers["Location"] == "/dashboard/subscribers?state=active"
    )
    after = client.get(changed.headers["Location"]).get_data(as_text=True)
    said = web_catalog("cy").gettext("%(number)s is texted in %(language)s now.") % {
        "number": "+44 7•••• ••123",
        "language": "English",
    }
    assert said in after
    assert language_cells(after)["+44 7•••• ••123"] == "English"
    assert language_of(app, SAM) == "en"
    last = choices(app, SAM)[-1]
    assert (last.language, last.channel, last.wording) == (
        "en",
        "dashboard",
        "set on the dashboard by Ruth +44 7•••• ••001",
    )
    history = json.loads(runner("consent", SAM, "--json").stdout)
    assert history["language"] == "en" and history["language_choices"][-1]["channel"] == "dashboard"
    assert phone(SAM).text("HELP") and all("Cymraeg" not in t for t in phone(SAM).text("MY"))

    again = change_language(client, SAM, app, "en")
    assert again.status_code == 302 and len(choices(app, SAM)) == 2, (
        "the same language again writes nothing"
    )


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (
            "pl",
            "language %(code)r is not one this board speaks; write one of %(languages)s, or leave it empty",
        ),
        ("", "Choose one of the board's languages."),
    ],
)
def test_a_language_the_board_does_not_speak_is_refused_in_words_and_nothing_changes(
    app, street, sent, message
):
    client = app.test_client()
    sign_in(client, RUTH)
    before = len(choices(app, SAM))
    refused = change_language(client, SAM, app, sent)
    assert refused.status_code == 302
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    expected = web_catalog("cy").gettext(message)
    if "%(" in message:
        expected = expected % {"code": sent, "languages": "cy (Cymraeg), en (English)"}
    assert f'<p class="flash error" role="alert">{expected.replace(chr(39), "&#39;")}</p>' in page
    assert language_of(app, SAM) == "cy" and len(choices(app, SAM)) == before


def test_an_organiser_cannot_change_the_language_of_someone_outside_their_areas_nor_without_the_form(
    app, street
):
    client = app.test_client()
    sign_in(client, RUTH)
    assert change_language(client, JOE, app, "cy").status_code == 404
    assert language_of(app, JOE) == "en"
    with session_of(app) as session:
        sam_id = session.scalar(select(Subscriber.id).where(Subscriber.phone == SAM))
    forged = client.post(f"/dashboard/subscribers/{sam_id}/language", data={"language": "en"})
    assert forged.status_code == 400 and language_of(app, SAM) == "cy"
    signed_out = app.test_client()
    token = csrf_token(signed_out, "/login")
    assert (
        signed_out.post(
            f"/dashboard/subscribers/{sam_id}/language",
            data={"language": "en", "csrf_token": token},
        ).status_code
        == 401
    )
    assert language_of(app, SAM) == "cy"


def test_a_board_of_one_language_shows_and_takes_no_language(db, tmp_path):
    app = create_app(app_config(db, tmp_path))
    runner, phone = Runner(app), phone_of(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("organiser", "add", RUTH, "elm")
    phone(RUTH).text("JOIN ELM")
    phone(SAM).text("JOIN ELM")
    client = app.test_client()
    sign_in(client, RUTH)
    page = client.get("/dashboard/subscribers").get_data(as_text=True)
    assert "Language" not in page and "/language" not in page
    assert change_language(client, SAM, app, "en").status_code == 404
    with session_of(app) as session:
        assert session.scalar(select(func.count()).select_from(LanguageChoice)) == 0


# ── every word of every page is in every pack ────────────────────────────────


PLACEHOLDER = re.compile(r"%\((\w+)\)[sr]")


def web_catalog_of(code: str) -> Catalog:
    with (languages.packs_folder() / code / "LC_MESSAGES" / "web.po").open("rb") as handle:
        return read_po(handle, locale=code)


def test_the_pages_have_words_to_translate():
    assert len(catalogs.WEB.messages()) > 400


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_word_of_every_page_is_translated_in_the_pack(code):
    catalog = web_catalog_of(code)
    missing = []
    for message in catalogs.WEB.messages():
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        texts = strings if isinstance(strings, tuple | list) else (strings,)
        if found is None or found.fuzzy or not all(texts):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert missing == [], (
        f"{code}: {len(missing)} words with no translation (run `make messages`, then translate)"
    )


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_pack_keeps_words_no_page_has_and_every_placeholder_is_kept(code):
    catalog = web_catalog_of(code)
    current = {
        (m.id if isinstance(m.id, str) else m.id[0], m.context)
        for m in catalogs.WEB.messages()
        if m.id
    }
    stale = [
        m.id
        for m in catalog
        if m.id and ((m.id if isinstance(m.id, str) else m.id[0]), m.context) not in current
    ]
    assert stale == [], f"{code}: translations of words no page has (run `make messages`)"
    problems = [
        (message.id, [str(error) for error in errors]) for message, errors in catalog.check()
    ]
    assert problems == []
    # Babel lets a translation drop a placeholder; a page would then lose a number or a name.
    lost = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        lost += [(ids[0], text) for text in strings if set(PLACEHOLDER.findall(text)) != wanted]
    assert lost == [], f"{code}: translations that lose or add a placeholder"


# ── a pseudo-language: no English word outside what translators see ─────────


class _Words(HTMLParser):
    """What a reader meets on a page: its text and the attributes read aloud or shown, except code,
    scripts, the simulator's texts (`bubble`: the texts themselves, in their own languages), and
    anything marked as another language than the page's (a language link's name, say)."""

    SPOKEN = ("aria-label", "placeholder", "title", "alt", "data-label")
    VOID = frozenset(
        {
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        }
    )

    def __init__(self, page_lang: str) -> None:
        super().__init__()
        self.page_lang = page_lang
        self.stack: list[bool] = []  # per open element: whether its text is skipped
        self.words: list[str] = []

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        skip = (
            self._skipping()
            or tag in ("code", "script", "style")
            or "hidden" in found
            or (found.get("lang") not in (None, self.page_lang) and tag != "html")
            or "bubble" in (found.get("class") or "").split()
        )
        if not skip:
            self.words += [value for name, value in attrs if name in self.SPOKEN and value]
        if tag not in self.VOID:
            self.stack.append(skip)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.words.append(data)


def english_left(page: str, lang: str, data: list[str]) -> list[str]:
    reader = _Words(lang)
    reader.feed(page)
    text = " ".join(reader.words)
    while (inner := re.sub(r"⟦[^⟦⟧]*⟧", " ", text)) != text:
        text = inner
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return re.findall(r"[A-Za-z]{2,}", text)


# What the pages show that is no one's words to translate: names, places and posts residents and
# organisers wrote, the product's name, addresses, a time zone.
DATA = [
    "Elm Street",
    "Oak Road",
    "SE6 1",
    "SE6 2",
    "Birch",
    "Sam",
    "Priya",
    "Joe",
    "Ruth",
    "Ada",
    "Bea",
    "sms-board",
    "Lift to the GP on Thursday",
    "Dog walking at weekends",
    "is the bin day changing",
    "Free piano",
    "Not A Slug",
    "/board/elm",
    "/board/oak",
    "fair.csv",
    "paper form at the fair",
    "Europe/London",
    "GSM-7",
    "Twilio",
    "Yes",
    "Water off",
    "until 3pm",
    "UCS-2",
    "elm",
    "oak",
]


def test_no_english_word_on_any_page_is_outside_what_translators_see(db, tmp_path, monkeypatch):
    with pseudo.pseudo_pack(tmp_path, monkeypatch, "ru") as code:
        app = development_board(db, tmp_path, SMS_BOARD_LANGUAGES=f"{code},en")
        runner, phone = Runner(app), phone_of(app)
        runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1", "--moderation", "first")
        runner("area", "add", "oak", "Oak Road", "--postcode", "SE6 2", "--private")
        runner("organiser", "add", RUTH, "elm")
        runner("admin", "add", ADMIN)
        for number, name in [(SAM, "Sam"), (PRIYA, "Priya"), (RUTH, "Ruth"), (ADMIN, "Ada")]:
            phone(number).text("JOIN ELM")
            phone(number).text(f"NAME {name}")
        phone(SAM).text("NEED Lift to the GP on Thursday")
        phone(PRIYA).text("OFFER Dog walking at weekends")
        phone(PRIYA).text("is the bin day changing")
        phone(JOE).text("JOIN ELM")
        phone(JOE).text("POST Free piano")
        client, visitor = app.test_client(), app.test_client()
        sign_in(client, ADMIN)
        client.get(f"/?lang={code}")
        visitor.get(f"/?lang={code}")
        invite = submit(
            client, "/dashboard/admin", "/dashboard/admin/invites", {"area": "oak", "uses": "5"}
        )
        csv = (
            "number,area,name,consent_source\n07700 900555,elm,Bea,paper form at the fair\n"
            "07700 900556,elm,Bea,\n"
        )
        imported = submit(
            client,
            "/dashboard/subscribers/import",
            "/dashboard/subscribers/import",
            {"file": (io.BytesIO(csv.encode()), "fair.csv")},
            content_type="multipart/form-data",
        )
        refused = submit(
            client,
            "/dashboard/admin",
            "/dashboard/admin/areas",
            {"name": "Birch", "slug": "Not A Slug"},
        )
        searched = submit(
            client, "/dashboard/subscribers", "/dashboard/subscribers", {"number": "0456"}
        )
        clean = submit(
            client,
            "/dashboard/subscribers/import",
            "/dashboard/subscribers/import",
            {
                "file": (
                    io.BytesIO(csv.splitlines()[0].encode() + b"\n" + csv.splitlines()[1].encode()),
                    "fair.csv",
                )
            },
            content_type="multipart/form-data",
        )
        with session_of(app) as session:
            held = session.scalar(select(Item.id).where(Item.status == "pending"))
            kept = session.scalar(
                select(InboundMessage.id).where(InboundMessage.body == "is the bin day changing")
            )
            priya = session.scalar(select(Subscriber.id).where(Subscriber.phone == PRIYA))
        approved = submit(
            client,
            "/dashboard/moderation",
            f"/dashboard/moderation/{held}",
            {"decision": "approve"},
            follow_redirects=True,
        )
        chosen = submit(
            client,
            "/dashboard/subscribers",
            f"/dashboard/subscribers/{priya}/language",
            {"language": code},
            follow_redirects=True,
        )
        replied = submit(
            client,
            "/dashboard/inbox",
            f"/dashboard/inbox/{kept}/reply",
            {"text": "Yes"},
            follow_redirects=True,
        )  # signed in Priya's language, now the pseudo-language
        ruth = app.test_client()
        sign_in(ruth, RUTH)
        ruth.get(f"/?lang={code}")
        token = csrf_token(ruth, "/dashboard/broadcast")
        composed = {"csrf_token": token, "area": "elm", f"text-{code}": "Water off \U0001f4a7 until 3pm",
                    "urgent": "1"}
        previewed = ruth.post("/dashboard/broadcast/preview", data=composed)
        campaign = re.search(r"/dashboard/broadcasts/(\d+)/confirm", previewed.get_data(as_text=True))
        assert campaign, previewed.get_data(as_text=True)[-2000:]
        unticked = ruth.post(
            f"/dashboard/broadcasts/{campaign.group(1)}/confirm",
            data={"csrf_token": token},
            follow_redirects=True,
        )
        pages = {
            "broadcast preview": previewed,
            "broadcast refused": ruth.post("/dashboard/broadcast/preview", data={"csrf_token": token}),
            "broadcast unticked": unticked,
            "invite": invite,
            "import": imported,
            "area refused": refused,
            "search refused": searched,
            "dry run": clean,
            "approved": approved,
            "replied": replied,
            "language chosen": chosen,
            "403": ruth.get("/dashboard/admin"),
            "no form token": client.post("/dashboard/admin/areas"),
        }
        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.split(".")[0]
            if (
                "GET" not in (rule.methods or ())
                or rule.arguments
                or blueprint == "static"
            ):
                continue
            signed_in_page = blueprint in ("dashboard", "admin", "compose")
            pages[rule.rule] = (client if signed_in_page else visitor).get(rule.rule)
        submit(visitor, "/login", "/login", {"number": RUTH})
        pages["/login/code"] = visitor.get("/login/code")
        pages["wrong code"] = submit(visitor, "/login/code", "/login/code", {"code": "000000"})
        pages["bad number"] = submit(visitor, "/login", "/login", {"number": "not a number"})
        pages["/dashboard/inbox?show=all"] = client.get("/dashboard/inbox?show=all")
        pages["/board/elm"] = client.get("/board/elm")
        pages["404"] = client.get("/no-such-page")
        held = board_of(app)
        assert held.settings.languages == (code, "en")
        leftovers = {}
        for name, answer in pages.items():
            if answer.mimetype != "text/html" or answer.status_code in (301, 302, 303):
                continue
            page = answer.get_data(as_text=True)
            assert html_lang(page) == code, name
            found = english_left(page, code, DATA)
            if found:
                leftovers[name] = found
        assert leftovers == {}, (
            f"words on a page that no catalog holds: {json.dumps(leftovers, ensure_ascii=False)}"
        )
        assert len([p for p in pages.values() if p.mimetype == "text/html"]) >= 25
        assert [p.status_code for p in (approved, replied, chosen)] == [200, 200, 200]


def test_the_one_message_preview_has_no_english_outside_what_translators_see(db, tmp_path, monkeypatch):
    """The composer of a board of one language (one box, `preview.html`), its preview and its broadcast."""
    with pseudo.pseudo_pack(tmp_path, monkeypatch, "ru") as code:
        app = development_board(db, tmp_path, SMS_BOARD_LANGUAGES=code)
        runner, phone = Runner(app), phone_of(app)
        runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
        runner("organiser", "add", RUTH, "elm")
        for number in (RUTH, SAM, PRIYA):
            phone(number).text("QAJOIN ELM")
        ruth = app.test_client()
        sign_in(ruth, RUTH)
        token = csrf_token(ruth, "/dashboard/broadcast")
        previewed = ruth.post(
            "/dashboard/broadcast/preview",
            data={"csrf_token": token, "area": "elm", "text": "Water off \U0001f4a7 until 3pm " * 6},
        )
        shown = previewed.get_data(as_text=True)
        campaign = re.search(r"/dashboard/broadcasts/(\d+)/confirm", shown)
        assert campaign, shown[-2000:]
        confirmed = ruth.post(
            f"/dashboard/broadcasts/{campaign.group(1)}/confirm",
            data={"csrf_token": token},
            follow_redirects=True,
        )
        pages = {"composer": ruth.get("/dashboard/broadcast"), "preview": previewed, "broadcast": confirmed}
        leftovers = {
            name: found
            for name, answer in pages.items()
            if (found := english_left(answer.get_data(as_text=True), code, DATA))
        }
        assert leftovers == {}
        assert "UCS-2" in shown and "\U0001f4a7" in shown, "the emoji's own note, in the pseudo-language"
