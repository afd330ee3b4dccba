"""The organisers' dashboard: sign-in, every page's routes, and what each page reads and does.

Each page's routes sit beside its read model and actions, in a module of the same name with
`_routes` added: `signin_routes.py` beside `signin.py`, `inbox_routes.py` beside `inbox.py`,
`composer_routes.py` beside `composer.py`, `admin_routes.py` beside `admin.py` (and `audit.py`).
Only the `*_routes.py` modules know Flask; they parse a form, call the module beside them (or
the same domain function the SMS keywords call: `broadcast.broadcasts`, `community.areas`,
`community.people`) and render, and run no SQL of their own. `dashboard_routes.py` finds them
and registers their blueprints (`init_dashboard`), and holds the navigation. The route modules
use what every page shares from `sms_board/web/` (the board's sessions, `security.py`,
`ids.py`, `pages.py`), and nothing else of it.

The rest sits beside `handlers/`: it may import `broadcast/`, `community/` and `sending/`
(never the sender), knows nothing of Flask or `web/`, and nothing below imports it.

- `signin.py`: one-time codes by SMS, rate limits, web sessions.
- `scope.py`: who is looking and which areas they may see.
- `inbox.py`, `overview.py` (its charts drawn by `overview_charts.py`), `subscribers.py`,
  `exchange.py`, `moderation_queue.py`, `audit.py`: what each page shows (and
  `moderation_queue.py` the decisions on it), each in a fixed number of statements whatever
  the number of rows.
- `roster.py`: subscriber lists imported and exported; `progress.py`: a broadcast's delivery.
- `composer.py`: the broadcast composer's live figures, from `segments.py` and
  `broadcasts.preview_broadcast`.
- `admin.py`: Administration's organiser list and actions; `simulator_thread.py`: the
  development simulator's thread (its page is `web/simulator.py`).
"""
