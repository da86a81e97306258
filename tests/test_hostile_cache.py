"""Caches cannot change a verdict: an entry ctlint did not write here, with this machine's secret, is
ignored and rebuilt, however plausible its shape (CI restores cache folders across branches and forks)."""

from __future__ import annotations

from dataclasses import fields

import duckdb
import orjson
import pytest
from test_answers import fresh, logs, run, window

from ctlint.model import UsageRow
from ctlint.usage.answers import _decode


def _add_a_plausible_row(document: dict, event_name: str) -> None:
    """The issue's attack: one more usage row, well-formed, naming an action the principal never used."""
    answer = document["answer"]
    answer["strings"].append(event_name)
    new_ref = len(answer["strings"])  # references are 1-based: 0 is None
    names = [f.name for f in fields(UsageRow)]
    for name, column in zip(names, answer["tables"]["rows"], strict=True):
        column.append(new_ref if name == "event_name" else column[0])


def test_one_plausible_row_added_to_a_cached_answer_is_ignored(tmp_path):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    expected, _ = run(folder, cache, window(1, 1))
    path = next(cache.glob("answers-v*/*.answer.json"))
    document = orjson.loads(path.read_bytes())
    _add_a_plausible_row(document, "DeleteBucket")
    forged = _decode(document["answer"], window(1, 1))  # the shape checks alone accept it
    assert len(forged.usage.rows) == len(expected.rows) + 1
    assert "DeleteBucket" in {row.event_name for row in forged.usage.rows}
    path.write_bytes(orjson.dumps(document))

    answer, engine = run(folder, cache, window(1, 1))
    assert "answered" not in engine.stats
    assert answer == expected == fresh(folder, window(1, 1))
    again, engine = run(folder, cache, window(1, 1))
    assert engine.stats.get("answered") == 1 and again == expected  # rebuilt and sealed anew


def test_a_cache_folder_from_another_machine_is_not_used(tmp_path, monkeypatch):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    monkeypatch.setenv("CTLINT_STATE_DIR", str(tmp_path / "other-machine"))
    expected, _ = run(folder, cache, window(1, 1))  # written under the other machine's secret
    monkeypatch.setenv("CTLINT_STATE_DIR", str(tmp_path / "this-machine"))
    answer, engine = run(folder, cache, window(1, 1))
    assert "answered" not in engine.stats and engine.stats["cached"] == 0 and engine.stats["read"] == 3
    assert answer == expected


def test_a_shared_ci_secret_lets_trusted_runs_share_a_cache(tmp_path, monkeypatch):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    monkeypatch.setenv("CTLINT_CACHE_KEY", "a CI secret")
    monkeypatch.setenv("CTLINT_STATE_DIR", str(tmp_path / "runner-1"))
    expected, _ = run(folder, cache, window(1, 1))
    monkeypatch.setenv("CTLINT_STATE_DIR", str(tmp_path / "runner-2"))  # a fresh runner, same secret
    answer, engine = run(folder, cache, window(1, 1))
    assert engine.stats.get("answered") == 1 and answer == expected
    monkeypatch.setenv("CTLINT_CACHE_KEY", "a fork's guess")
    _, engine = run(folder, cache, window(1, 1))
    assert "answered" not in engine.stats


@pytest.mark.parametrize("damage", ["edited-row", "no-mac", "mac-of-other-file"])
def test_a_tampered_file_cache_is_ignored_and_rebuilt(tmp_path, damage):
    from test_cache import run as run_files

    folder = logs(tmp_path / "logs")
    cache = tmp_path / "cache"
    expected, _ = run_files(folder, cache)
    database = next(cache.glob("usage-*.duckdb"))
    mac = database.with_name(database.name + ".mac")
    if damage == "edited-row":
        con = duckdb.connect(str(database))
        con.execute("UPDATE rows SET eventname = 'DeleteBucket' WHERE eventname = 'ListBuckets'")
        con.close()
    elif damage == "no-mac":
        mac.unlink()
    else:
        mac.write_text("0" * 64 + "\n")
    raw, engine = run_files(folder, cache)
    assert engine.stats["cached"] == 0 and engine.stats["read"] == 3
    assert raw == expected
    _, engine = run_files(folder, cache)
    assert engine.stats["cached"] == 3  # rebuilt and sealed anew


def test_the_secret_is_outside_the_cache_folder_and_private(tmp_path):
    import os

    from ctlint.usage.integrity import KEY_FILE, state_dir

    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    run(folder, cache, window(1, 1))
    key = state_dir() / KEY_FILE
    assert key.is_file() and not key.resolve().is_relative_to(cache.resolve())
    assert os.stat(key).st_mode & 0o077 == 0
    assert not any(KEY_FILE in p.name for p in cache.rglob("*"))
