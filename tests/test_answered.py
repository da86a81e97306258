"""The local engine behind its answer cache: the same answers, and a warm run that loads no SQL stack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cloudtrail_factory import event, iam_user, write_records
from test_answers import logs, window

import ctlint.usage.answered as answered
from ctlint.usage.answered import AnsweredEngine
from ctlint.usage.local import LocalEngine

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"
# What only the engine's cold path needs; an answered run must not pay for importing any of it.
ENGINE_STACK = ("duckdb", "sqlglot", "pyarrow", "numpy", "msgspec", "isal")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(answered, "CACHE_MIN_BYTES", 0)
    return tmp_path / "cache"


def _collect(folder: Path, win, **kwargs):
    engine = AnsweredEngine([folder], **kwargs)
    try:
        return engine.collect(win, None), engine
    finally:
        engine.close()


def _fresh(folder: Path, win, **kwargs):
    engine = LocalEngine([folder], progress=False, cache=False, **kwargs)
    try:
        return engine.collect(win, None), engine
    finally:
        engine.close()


def test_a_rerun_is_answered_without_building_the_engine_and_equals_a_fresh_run(tmp_path, cache):
    folder = logs(tmp_path / "logs")
    first, cold = _collect(folder, window(1, 1))
    assert cold.engine is not None and "answered" not in cold.engine.stats  # a miss: the engine ran
    second, warm = _collect(folder, window(1, 1))
    assert warm.engine is None  # answered from the cache
    reference, engine = _fresh(folder, window(1, 1))
    assert first == second == reference
    assert (warm.records_loaded, warm.records_skipped, warm.skip_messages, warm.skipped_files) == (
        engine.records_loaded,
        engine.records_skipped,
        engine.skip_messages,
        engine.skipped_files,
    )
    assert warm.not_event_logs == engine.not_event_logs
    assert [str(p) for p in warm.files] == [str(p) for p in engine.files]


def test_another_question_or_changed_logs_build_the_engine(tmp_path, cache):
    folder = logs(tmp_path / "logs")
    _collect(folder, window(1, 1))
    other, engine = _collect(folder, window(4, 1))  # a start past the first events: another question
    assert engine.engine is not None and other == _fresh(folder, window(4, 1))[0]
    _collect(folder, window(1, 1), skip_bad_records=True)
    flagged, engine = _collect(folder, window(1, 1), skip_bad_records=True)
    assert engine.engine is None and flagged == _fresh(folder, window(1, 1), skip_bad_records=True)[0]
    changed = folder / "2026-06-04.json.gz"
    write_records(
        changed,
        [event(iam_user("111111111111", "carol"), "sqs.amazonaws.com", "ListQueues", "2026-06-04T01:00:00Z")],
    )
    after, engine = _collect(folder, window(1, 1))
    assert engine.engine is not None
    assert after == _fresh(folder, window(1, 1))[0]
    assert any(row.principal_arn.endswith("user/carol") for row in after.rows)


def test_an_answer_without_identities_is_the_same_answer_less_its_identity_rows(tmp_path, cache):
    folder = logs(tmp_path / "logs")
    full, _ = _collect(folder, window(1, 1))
    assert full.identities  # alice's sessions as admin
    lean, engine = _collect(folder, window(1, 1), identities=False)
    assert engine.engine is None and lean == replace(full, identities=())
    assert _collect(folder, window(1, 1))[0] == full  # the stored answer still holds them


def test_no_cache_and_small_inputs_always_build_the_engine(tmp_path, cache, monkeypatch):
    folder = logs(tmp_path / "logs")
    _collect(folder, window(1, 1))
    assert _collect(folder, window(1, 1), cache=False)[1].engine is not None
    monkeypatch.setattr(answered, "CACHE_MIN_BYTES", 1 << 30)
    assert _collect(folder, window(1, 1))[1].engine is not None


# ---------------------------------------------------------------- the whole command, in a fresh interpreter

_DRIVER = (
    "import json, sys\n"
    "from ctlint.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    "sys.exit(code)\n"
)


def _check(config: Path, env: dict[str, str]) -> tuple[int, str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, "check", "--config", str(config), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.parent,
        timeout=300,
    )
    marker = done.stderr.rindex("\nMODULES ")
    modules = {name.partition(".")[0] for name in json.loads(done.stderr[marker + len("\nMODULES ") :])}
    return done.returncode, done.stdout, modules


def test_a_warm_check_loads_no_sql_engine(tmp_path):
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns("*.py"))
    # The answer cache starts at 1 MB of logs: the demo's trail plus one uncompressed day of alice's calls.
    alice = iam_user("111111111111", "alice")
    calls = [
        event(alice, "s3.amazonaws.com", "ListBuckets", f"2026-06-20T{h:02d}:{m:02d}:00Z")
        for h in range(24)
        for m in range(60)
    ]
    write_records(demo / "logs" / "extra" / "2026-06-20.json", calls)
    env = {
        **os.environ,
        "CTLINT_CACHE_DIR": str(tmp_path / "cache"),
        "CTLINT_STATE_DIR": str(tmp_path / "state"),
        "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
    }
    env.pop("CTLINT_CACHE_KEY", None)
    cold_code, cold_out, cold_modules = _check(demo / "ctlint.yaml", env)
    warm_code, warm_out, warm_modules = _check(demo / "ctlint.yaml", env)
    assert cold_code == warm_code == 1 and json.loads(cold_out)["findings"]
    assert warm_out == cold_out
    assert {"duckdb", "sqlglot"} <= cold_modules  # the first run did read the logs with them
    assert not warm_modules & set(ENGINE_STACK), sorted(warm_modules & set(ENGINE_STACK))
    assert list((tmp_path / "cache").rglob("*.answer.json"))
