"""Texts to many people: digests and broadcasts, each a campaign, written to the outbox in chunks.

`campaign_lifecycle` owns the campaign status both share, `campaigns` what else they share;
`broadcasts` is an organiser's message after a YES, `fanout` writes its outbox rows;
`digest_runs` starts each run of digests and drives it, `digest_groups` plans who gets
which items, `digest_pages` fits an area's news to the segment budget, `digest_batches`
stores a run's bodies and keeps its books (the cap, its figures), `digest_fanout` writes
a run's rows, `digest_more` pages on through a sent digest (MORE); `billing` counts what texts cost against the monthly cap. Nothing here sends: the
rows go to `sending/`, whose sender hands them to a transport.
"""
