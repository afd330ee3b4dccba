"""Plumbing every part of the board stands on: settings, database, migrations, logs, paths, time, registries."""
