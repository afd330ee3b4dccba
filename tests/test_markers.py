"""`postgres_only` and `sqlite_only` skip the other database's run, saying why (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.mark.postgres_only(reason="checks the marker itself")
def test_a_postgres_only_test_runs_on_postgresql_alone(db):
    assert db.backend == "postgresql"


@pytest.mark.sqlite_only
def test_a_sqlite_only_test_runs_on_sqlite_alone(db):
    assert db.backend == "sqlite"


def test_the_other_databases_run_is_skipped_with_the_markers_reason(request):
    """The two tests above, as collected: each has its other run marked skip, with a reason."""
    skipped = {
        item.name: [mark.kwargs.get("reason") for mark in item.iter_markers("skip")]
        for item in request.session.items
        if item.module is request.module and item.name != request.node.name
    }
    if len(skipped) < 4:
        pytest.skip("needs the two marked tests above in the same run (a -k chose this one alone)")
    assert skipped == {
        "test_a_postgres_only_test_runs_on_postgresql_alone[sqlite]":
            ["postgres_only: checks the marker itself (this run is on SQLite)"],
        "test_a_postgres_only_test_runs_on_postgresql_alone[postgresql]": [],
        "test_a_sqlite_only_test_runs_on_sqlite_alone[sqlite]": [],
        "test_a_sqlite_only_test_runs_on_sqlite_alone[postgresql]":
            ["sqlite_only: runs only against SQLite (this run is on PostgreSQL)"],
    }
