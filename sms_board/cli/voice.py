"""`sms-board call-script NUMBER`: the TwiML a number would hear now (docs/voice.md)."""

from __future__ import annotations

import click

from sms_board.cli.common import phone_number, settings_of, transaction


def _pretty(twiml: str) -> str:
    from xml.dom import minidom

    return minidom.parseString(twiml).toprettyxml(indent="  ").split("\n", 1)[1].rstrip()


@click.command("call-script")
@click.argument("number")
@click.option("--ringing", is_flag=True, help="What the number hears ringing the board, even with a digest call waiting.")
@click.option("--news", is_flag=True, help="Also the first page of news, as key 1 reads it.")
@click.pass_context
def call_script(ctx: click.Context, number: str, ringing: bool, news: bool) -> None:
    """Print the TwiML NUMBER would hear now: its latest digest call, else a call it places to the board."""
    from sms_board.voice import ringing as board_number
    from sms_board.voice.listing import latest_call_to
    from sms_board.voice.script import digest_call, greeting, page

    settings = settings_of(ctx)
    phone = phone_number(ctx, number)
    if not settings.voice.enabled:
        click.echo("SMS_BOARD_VOICE is off: the board places no call and answers its number only to say it "
                   "takes texts; this is what it would say with it on.", err=True)
    with transaction(ctx) as session:
        row = None if ringing else latest_call_to(session, phone)
        if row is not None:
            click.echo(f"Digest call #{row.id} ({row.status}), as Twilio fetches it from /voice/call/{row.id}:", err=True)
            call = digest_call(session, settings, row)
        else:
            click.echo("Ringing the board (/voice/inbound):", err=True)
            call = board_number.inbound_call(session, settings, phone)
        scripts = [str(greeting(call)) if call is not None else str(board_number.answer(session, settings, phone))]
        if news and call is not None:
            scripts.append(str(page(call, 0)))
        for twiml in scripts:
            click.echo(_pretty(twiml))
