"""`sms-board poster`: an area's poster for a shop window, as a PDF (sms_board/printing/poster.py)."""

from __future__ import annotations

from pathlib import Path

import click

from sms_board.cli.common import area_or_fail, settings_of, transaction


@click.command()
@click.argument("slug")
@click.option("--pdf", "target", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the poster to this file.")
@click.option("--size", type=click.Choice(["a4", "a5"], case_sensitive=False), default="a4", show_default=True,
              help="The paper it is printed on.")
@click.option("--strips", is_flag=True, help="Tear-off strips along the bottom, with the keyword and the number.")
@click.pass_context
def poster(ctx: click.Context, slug: str, target: Path, size: str, strips: bool) -> None:
    """A poster for SLUG's shop windows: how to join by text, in every language of the area."""
    from sms_board.printing.poster import NoPoster, poster_for, poster_pdf

    try:
        with transaction(ctx) as session:
            drawn = poster_pdf(poster_for(settings_of(ctx), area_or_fail(session, slug), strips=strips),
                               size.lower())  # type: ignore[arg-type]
    except NoPoster as refused:
        raise click.ClickException(str(refused)) from None
    try:
        target.write_bytes(drawn)
    except OSError as failed:
        raise click.ClickException(f"cannot write {target}: {failed.strerror or failed}.") from None
    click.echo(f"Wrote the {size.upper()} poster for {slug} to {target}.", err=True)
