"""ctlint.isotime reads the extended ISO form the same on Python 3.10 as 3.11's fromisoformat does."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ctlint import isotime

CASES = {
    "2026-06-01T12:00:00Z": datetime(2026, 6, 1, 12, tzinfo=timezone.utc),
    "2026-06-01T12:00:00.5Z": datetime(2026, 6, 1, 12, 0, 0, 500000, tzinfo=timezone.utc),
    "2026-06-01 12:00:00.1234567+00:00": datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=timezone.utc),
    "2026-06-01T12:00:00.12-05:30": datetime(
        2026, 6, 1, 12, 0, 0, 120000, tzinfo=timezone(-timedelta(hours=5, minutes=30))
    ),
    "2026-06-01T12:00:00": datetime(2026, 6, 1, 12),
}


@pytest.mark.parametrize("text", sorted(CASES))
def test_reads_like_python_311(text: str) -> None:
    assert isotime.fromisoformat(text) == CASES[text]


@pytest.mark.parametrize("text", ["", "garbage", "2026-06-01T12:00:00.", "2026-13-01T00:00:00"])
def test_rejects_what_311_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        isotime.fromisoformat(text)


def test_the_310_path_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Run the 3.10 rewrite on this interpreter too: its output must read back to the same moment.
    monkeypatch.setattr(isotime.sys, "version_info", (3, 10, 0))
    for text, moment in CASES.items():
        assert isotime.fromisoformat(text) == moment
