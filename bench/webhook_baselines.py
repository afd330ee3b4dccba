"""The two baselines `bench_webhook.py` measures the board's webhook against, as WSGI apps for gunicorn.

    gunicorn 'webhook_baselines:minimal_durable()'   # RequestValidator + one INSERT … ON CONFLICT DO NOTHING
    gunicorn 'webhook_baselines:bare()'              # Flask answering fixed TwiML

The minimal durable handler is the least any webhook that never loses a text can
do: check Twilio's signature, store the text idempotently with one statement, and
answer. Both read BENCH_DATABASE_URL, BENCH_SCHEMA and TWILIO_AUTH_TOKEN, and
sign for BENCH_PUBLIC_URL.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response, abort, request
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

TABLE = "bench_inbound"


def _fixed_twiml() -> str:
    response = MessagingResponse()
    response.message("Thanks, your message is saved.")
    return str(response)


def bare() -> Flask:
    app = Flask("bare")
    answer = _fixed_twiml()

    @app.post("/sms/inbound")
    def inbound() -> Response:
        return Response(answer, mimetype="text/xml")

    return app


def minimal_durable() -> Flask:
    app = Flask("minimal_durable")
    answer = _fixed_twiml()
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    signed_url = os.environ["BENCH_PUBLIC_URL"].rstrip("/") + "/sms/inbound"
    schema = os.environ["BENCH_SCHEMA"]
    engine = create_engine(
        os.environ["BENCH_DATABASE_URL"], pool_size=6, pool_pre_ping=True,
        connect_args={"options": f"-csearch_path={schema}"},
    )
    insert = text(
        f"INSERT INTO {TABLE} (message_sid, params, received_at) VALUES (:sid, :params, now()) "
        "ON CONFLICT (message_sid) DO NOTHING"
    )

    @app.post("/sms/inbound")
    def inbound() -> Response:
        params = request.form.to_dict(flat=True)
        if not validator.validate(signed_url, params, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        with engine.begin() as connection:
            connection.execute(insert, {"sid": params.get("MessageSid", ""), "params": json.dumps(params)})
        return Response(answer, mimetype="text/xml")

    return app
