"""The resident-facing domain: areas, subscriptions and consent, the help exchange, erasure."""
