"""The resident-facing domain: areas, subscriptions and consent, the help exchange, moderation, erasure.

`areas`, `subscriptions` (joining, leaving, opting out and back in, with their consent), `people`
(organisers, administrators, NAMEs), `exchange` and `ageing` (requests, offers, connections),
`moderation`, `invites`, `alerts`, `inbox` and `audit` (what organisers decide, are told and
did), `abuse` (floods and repeats), `roster` (lists in and out), `privacy` and `digest_lines`
(FORGET, and items taken out of digests already built). SMS keywords, the dashboard and the
CLI all call these same functions.
"""
