"""What the organisers' dashboard reads and does, apart from Flask.

The web pages (`sms_board/web/auth.py`, `dashboard.py`, `compose.py`, `admin.py`) are thin:
they parse a form, call a function here (or the same domain function the SMS keywords
call: `broadcast.broadcasts`, `community.areas`, `community.people`), and render. This
layer sits beside `handlers/`: it may import `broadcast/`, `community/` and `sending/`
(never the sender), and nothing below it imports it.

- `signin.py`: one-time codes by SMS, rate limits, web sessions.
- `scope.py`: who is looking and which areas they may see.
- `inbox.py`, `overview.py`, `subscribers.py`, `exchange.py`, `moderation_queue.py`, `audit.py`:
  what each page shows (and `moderation_queue.py` the decisions on it), each in a fixed number
  of statements whatever the number of rows.
- `roster.py`: subscriber lists imported and exported; `progress.py`: a broadcast's delivery.
- `composer.py`: the broadcast composer's live figures, from `segments.py` and
  `broadcasts.preview_broadcast`.
"""
