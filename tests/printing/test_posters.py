"""Posters for the corner-shop window: what a resident reads on one, and that texting it joins the area."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from sms_board import create_app
from sms_board.models import Area, Subscriber, Subscription, SubscriptionStatus
from tests.conftest import Phone, Runner, app_config, session_of
from tests.support.web import sign_in

RUTH, ADMIN, SAM = "+447700900001", "+447700900002", "+447700900123"
# The tests' board number, as people write it.
NUMBER = "07700 900000"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def board(db, tmp_path, **settings: str | None) -> Flask:  # type: ignore[no-untyped-def]
    app = create_app(app_config(db, tmp_path, **settings))
    runner = Runner(app)
    runner("area", "add", "elm", "Elm Street", "--postcode", "SE6 1")
    runner("area", "add", "carers", "Carers' Circle", "--private")
    return app


def poster(app: Flask, tmp_path: Path, *options: str, ok: bool = True, slug: str = "elm"):  # type: ignore[no-untyped-def]
    """`sms-board poster SLUG --pdf FILE …`: the PDF read back, and the command's result."""
    target = tmp_path / "poster.pdf"
    result = Runner(app)("poster", slug, "--pdf", str(target), *options, ok=ok)
    return (PdfReader(target) if ok else None), result


def printed(reader: PdfReader) -> str:
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def big_lines(reader: PdfReader) -> dict[str, float]:
    """Each line of the page set in 48 pt or more, with its size (the PDF's text matrix and font size)."""
    sizes: dict[str, float] = {}

    def visit(text: str, cm, tm, font, size: float) -> None:  # type: ignore[no-untyped-def]
        shown = size * (abs(tm[3]) or 1)
        if text.strip() and shown >= 48:
            sizes[text.strip()] = shown

    reader.pages[0].extract_text(visitor_text=visit)
    return sizes


def areas_of(app: Flask, number: str) -> list[str]:
    with session_of(app) as session:
        return list(session.scalars(
            select(Area.slug).join(Subscription).join(Subscriber)
            .where(Subscriber.phone == number, Subscription.status == SubscriptionStatus.ACTIVE)
        ))


def join_line(text: str, keyword: str) -> str:
    """The keyword as a resident copies it off the poster: `JOIN ELM`."""
    found = re.search(rf"^{keyword} [A-Z0-9-]+$", text, re.MULTILINE)
    assert found, text
    return found.group(0)


# ── what the poster says ──────────────────────────────────────────────────


def test_the_printed_keyword_joins_the_area_it_names(db, tmp_path):
    app = board(db, tmp_path)
    reader, _ = poster(app, tmp_path)
    text = printed(reader)
    assert "Elm Street" in text and "JOIN ELM" in text and NUMBER in text
    assert "DEMO" not in text
    big = big_lines(reader)
    assert "JOIN ELM" in big and NUMBER in big, big
    assert all(word in text for word in ("NEED", "OFFER", "POST", "HELP", "STOP"))
    assert "standard network rates" in text
    assert "landline" not in text, "the board answers no calls"

    Phone(app.test_client(), SAM).text(join_line(text, "JOIN"))
    assert areas_of(app, SAM) == ["elm"]


def test_a_welsh_board_prints_welsh_first_and_its_keyword_joins_too(db, tmp_path):
    app = board(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en")
    reader, _ = poster(app, tmp_path, "--size", "a5", "--strips")
    text = printed(reader)
    assert text.index("YMUNO ELM") < text.index("JOIN ELM") and NUMBER in text
    assert "I ymuno, tecstiwch" in text and "Ar ôl ymuno, tecstiwch:" in text
    assert "ANGEN" in text and "STOPIO" in text and "cyfraddau rhwydwaith safonol" in text
    assert {"YMUNO ELM", "JOIN ELM", NUMBER} <= set(big_lines(reader))

    Phone(app.test_client(), SAM).text(join_line(text, "YMUNO"))
    assert areas_of(app, SAM) == ["elm"]


def test_welsh_letters_print_and_a_hyphenated_slug_joins_as_printed(db, tmp_path):
    app = board(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en")
    Runner(app)("area", "add", "ty-gwyn", "Tŷ Gwyn a'r Ŵyl", "--postcode", "CF10")
    text = printed(poster(app, tmp_path, slug="ty-gwyn")[0])
    assert "Tŷ Gwyn a'r Ŵyl" in text and "YMUNO TY-GWYN" in text

    Phone(app.test_client(), SAM).text(join_line(text, "YMUNO"))
    assert areas_of(app, SAM) == ["ty-gwyn"]


def test_an_area_that_narrows_the_languages_prints_only_its_own(db, tmp_path):
    app = board(db, tmp_path, SMS_BOARD_LANGUAGES="en,pl")
    Runner(app)("area", "add", "brzoza", "Brzozowa", "--languages", "pl")
    text = printed(poster(app, tmp_path, slug="brzoza")[0])
    assert "DOŁĄCZ BRZOZA" in text and "JOIN BRZOZA" not in text
    assert "Po dołączeniu wyślij SMS:" in text and "stacjonarnego" not in text


def test_the_landline_line_only_when_the_board_answers_calls(db, tmp_path):
    app = board(db, tmp_path, SMS_BOARD_VOICE="on")
    text = printed(poster(app, tmp_path)[0])
    assert f"No mobile? Ring {NUMBER} from a landline to hear the board." in text


@pytest.mark.parametrize("size", ["a4", "a5"])
@pytest.mark.parametrize("languages", ["en", "cy,en"])
def test_every_layout_fits_on_its_page(db, tmp_path, size, languages):
    app = board(db, tmp_path, SMS_BOARD_LANGUAGES=languages, SMS_BOARD_VOICE="on")
    reader, _ = poster(app, tmp_path, "--size", size, "--strips")
    page = reader.pages[0]
    assert len(reader.pages) == 1
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == {"a4": (595, 842), "a5": (420, 595)}[size]
    places: list[tuple[float, float]] = []
    page.extract_text(visitor_text=lambda text, cm, tm, *_: places.append((tm[4], tm[5])) if text.strip() else None)
    assert places and all(0 <= x <= width and 0 <= y <= height for x, y in places), places


def test_tear_off_strips_carry_the_keyword_and_the_number(db, tmp_path):
    app = board(db, tmp_path)
    plain = printed(poster(app, tmp_path)[0])
    with_strips = printed(poster(app, tmp_path, "--strips")[0])
    assert with_strips.count("JOIN ELM") >= plain.count("JOIN ELM") + 8
    assert with_strips.count(NUMBER) >= plain.count(NUMBER) + 8


def test_a_console_board_without_a_number_prints_the_demo_one_with_demo_across_it(db, tmp_path):
    app = board(db, tmp_path, TWILIO_FROM_NUMBER=None, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None)
    text = printed(poster(app, tmp_path)[0])
    assert "DEMO" in text and NUMBER in text


# ── refused, in one line ──────────────────────────────────────────────────


def test_a_board_with_only_a_messaging_service_is_told_to_set_its_number(db, tmp_path):
    app = board(db, tmp_path, TWILIO_FROM_NUMBER=None, SMS_BOARD_TRANSPORT="twilio",
                TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32)
    _, result = poster(app, tmp_path, ok=False)
    assert result.exit_code == 1 and not (tmp_path / "poster.pdf").exists()
    [line] = result.output.splitlines()
    assert "set TWILIO_FROM_NUMBER" in line


def test_a_private_area_gets_no_poster_and_its_code_is_never_printed(db, tmp_path):
    app = board(db, tmp_path)
    _, result = poster(app, tmp_path, slug="carers", ok=False)
    [line] = result.output.splitlines()
    assert result.exit_code == 1 and "Carers' Circle is a private area: it has no poster" in line
    assert not (tmp_path / "poster.pdf").exists()


@pytest.mark.parametrize(("options", "said"), [
    (("--slug", "ash"), "no area 'ash'"),
    (("--size", "a3"), "'a3' is not one of 'a4', 'a5'"),
    (("--pdf", "/nonexistent-folder/poster.pdf"), "cannot write /nonexistent-folder/poster.pdf"),
])
def test_bad_input_is_one_clear_line(db, tmp_path, options, said):
    app = board(db, tmp_path)
    slug = options[1] if options[0] == "--slug" else "elm"
    target = options[1] if options[0] == "--pdf" else str(tmp_path / "poster.pdf")
    extra = list(options) if options[0] == "--size" else []
    result = Runner(app)("poster", slug, "--pdf", target, *extra, ok=False)
    assert result.exit_code != 0 and said in result.output, result.output
    assert [line for line in result.output.splitlines() if line.startswith("Error")] == \
        [line for line in result.output.splitlines() if said in line]


# ── the Administration page ───────────────────────────────────────────────


def test_administrators_download_posters_from_the_administration_page(db, tmp_path):
    app = board(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en")
    runner = Runner(app)
    runner("organiser", "add", RUTH, "elm")
    runner("admin", "add", ADMIN)
    admin, ruth = app.test_client(), app.test_client()
    sign_in(admin, ADMIN)
    sign_in(ruth, RUTH)

    page = admin.get("/dashboard/admin").get_data(as_text=True)
    assert 'href="/dashboard/admin/areas/elm/poster.pdf?size=a5"' in page
    assert "/dashboard/admin/areas/carers/poster.pdf" not in page, "a private area has no poster"

    download = admin.get("/dashboard/admin/areas/elm/poster.pdf?size=a5&strips=1")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "poster-elm-a5.pdf" in download.headers["Content-Disposition"]
    text = printed(PdfReader(io.BytesIO(download.data)))
    assert "YMUNO ELM" in text and "JOIN ELM" in text and NUMBER in text

    assert admin.get("/dashboard/admin/areas/carers/poster.pdf").status_code == 404
    assert admin.get("/dashboard/admin/areas/ash/poster.pdf").status_code == 404
    assert admin.get("/dashboard/admin/areas/elm/poster.pdf?size=a3").status_code == 404
    assert ruth.get("/dashboard/admin/areas/elm/poster.pdf").status_code == 403
    assert app.test_client().get("/dashboard/admin/areas/elm/poster.pdf").status_code in (302, 401)


def test_the_administration_page_offers_posters_in_its_language(db, tmp_path):
    app = board(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en")
    Runner(app)("admin", "add", ADMIN)
    admin = app.test_client()
    sign_in(admin, ADMIN)
    page = admin.get("/dashboard/admin", headers={"Accept-Language": "cy"}).get_data(as_text=True)
    assert "Poster A5 ar gyfer Elm Street" in page and "A4 gyda stribedi rhwygo" in page


# ── the picture in the README ─────────────────────────────────────────────


def test_a_poster_renders_as_a_picture(db, tmp_path):
    """Page 1 drawn by PDFium, as a printer would; with SMS_BOARD_SCREENSHOTS=1 (`make screenshots`) it is
    saved as docs/screenshots/poster.png for the README."""
    import os

    import pypdfium2

    app = board(db, tmp_path, SMS_BOARD_LANGUAGES="cy,en", SMS_BOARD_VOICE="on")
    poster(app, tmp_path, "--size", "a5", "--strips")
    folder = SHOTS if os.environ.get("SMS_BOARD_SCREENSHOTS") == "1" else tmp_path
    picture = pypdfium2.PdfDocument(tmp_path / "poster.pdf")[0].render(scale=1.5).to_pil().convert("L")
    picture.save(folder / "poster.png")
    dark = sum(count for shade, count in enumerate(picture.histogram()) if shade < 128)
    assert picture.size == (630, 893) and dark > 5000, "the page has ink on it"
