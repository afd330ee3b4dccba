"""Texts to many people: digests and broadcasts, each a campaign, written to the outbox in chunks.

`campaigns` owns the campaign life cycle both share; `broadcasts` is an organiser's message
after a YES, `fanout` writes its outbox rows; `digest_runs` plans each run of digests,
`digest_pages` fits an area's news to the segment budget, `digest_fanout` writes a run's
rows; `billing` counts what texts cost against the monthly cap. Nothing here sends: the
rows go to `sending/`, whose sender hands them to a transport.
"""
