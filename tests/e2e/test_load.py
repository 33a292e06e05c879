"""A short load run in the suite: 20 intake clients for 10 s beside two dashboard sessions.

The full run (60 s, five sessions) is `python -m bench.load`; its figures are in the README.
This one asserts only what must hold under any load: every answer is the right one (201, a
422 for the invalid requests, the same order for a retry), nothing is lost or stored twice,
and the dashboard keeps rendering without an error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.load import describe, run_load
from tests.conftest import BACKENDS
from tests.e2e.conftest import CHROMIUM
from tests.integration.intake_support import own_database

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_short_load_loses_nothing_and_answers_only_as_expected(kind, tmp_path):
    sessions = 2 if shutil.which(CHROMIUM) or Path(CHROMIUM).exists() else 0
    with own_database(kind, tmp_path, "load_test") as db:
        report = run_load(db.url, clients=20, seconds=10, sessions=sessions, folder=tmp_path)
    print(describe(report))
    assert report.server_errors == 0
    assert not report.tally.surprises
    assert set(report.tally.statuses) <= {201, 422}
    assert report.new_rows == len(report.tally.accepted) > 0
    assert not report.sessions.problems
    assert report.sessions.runs >= sessions
