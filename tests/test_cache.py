"""The local engine's per-file cache: identical results with and without it, only changed files read,
corrupt caches rebuilt, atomic writes, concurrent runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from cloudtrail_factory import assume_role_event, assumed_role, event, iam_user, role_arn, write_records

from ctlint.errors import InputError
from ctlint.model import Window
from ctlint.usage import cache as cache_mod
from ctlint.usage.local import LocalEngine

A = "111111111111"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))
ROOT = Path(__file__).resolve().parents[1]


def logs(folder: Path, days=(1, 2, 3)) -> Path:
    alice = iam_user(A, "alice")
    for d in days:
        key = f"ASIAKEY{d:013d}"
        write_records(
            folder / f"2026-06-{d:02d}.json.gz",
            [
                event(alice, "s3.amazonaws.com", "ListBuckets", f"2026-06-{d:02d}T0{h}:00:00Z")
                for h in range(4)
            ]
            + [
                assume_role_event(alice, role_arn(A, "admin"), key, f"2026-06-{d:02d}T05:00:00Z"),
                event(
                    assumed_role(A, "admin", "alice", key),
                    "ec2.amazonaws.com",
                    "RunInstances",
                    f"2026-06-{d:02d}T05:10:00Z",
                ),
            ],
        )
    return folder


def run(folder: Path, cache_dir: Path | None, **kwargs):
    """The file cache on its own (the answer cache, in front of it, has its own tests)."""
    kwargs.setdefault("answers", False)
    engine = LocalEngine(
        [folder],
        progress=False,
        cache=cache_dir is not None,
        cache_dir=cache_dir,
        cache_min_bytes=0,
        **kwargs,
    )
    try:
        return engine.collect(WINDOW, None), engine
    finally:
        engine.close()


def test_second_run_reads_nothing_and_equals_the_uncached_result(tmp_path):
    folder = logs(tmp_path / "logs")
    expected, _ = run(folder, None)
    first, engine = run(folder, tmp_path / "cache")
    assert engine.stats["read"] == 3 and engine.stats["cached"] == 0
    second, engine = run(folder, tmp_path / "cache")
    assert engine.stats["read"] == 0 and engine.stats["cached"] == 3
    assert first == expected == second
    assert expected.stats.read == 18 and expected.sessions and expected.assumptions


def test_only_new_or_changed_files_are_read(tmp_path):
    folder = logs(tmp_path / "logs")
    run(folder, tmp_path / "cache")
    logs(folder, days=(4,))
    changed = folder / "2026-06-01.json.gz"
    write_records(
        changed, [event(iam_user(A, "bob"), "iam.amazonaws.com", "ListUsers", "2026-06-01T00:00:00Z")]
    )
    os.utime(changed, ns=(1, 1))  # a different mtime even on coarse clocks
    raw, engine = run(folder, tmp_path / "cache")
    assert engine.stats["read"] == 2 and engine.stats["cached"] == 2
    assert raw == run(folder, None)[0]
    assert {r.principal_arn.rsplit("/", 1)[1] for r in raw.rows} == {"alice", "bob", "admin"}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "inconsistent", "other-format"])
def test_a_damaged_cache_is_detected_and_rebuilt(tmp_path, damage):
    folder = logs(tmp_path / "logs")
    expected, _ = run(folder, tmp_path / "cache")
    path = next((tmp_path / "cache").glob("usage-*.duckdb"))
    if damage == "garbage":
        path.write_bytes(b"not a database at all" * 100)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:5000])
    else:
        con = duckdb.connect(str(path))
        if damage == "inconsistent":
            con.execute("UPDATE rows SET ct_weight = ct_weight + 1 WHERE ct_weight > 1")
        else:
            con.execute("UPDATE meta SET format = 999")
        con.close()
    raw, engine = run(folder, tmp_path / "cache")
    assert raw == expected and engine.stats["read"] == 3  # read again, not trusted
    raw, engine = run(folder, tmp_path / "cache")
    assert raw == expected and engine.stats["read"] == 0  # and rebuilt


def test_cache_off_writes_nothing_and_tiny_inputs_skip_it(tmp_path):
    folder = logs(tmp_path / "logs")
    run(folder, None)
    engine = LocalEngine(
        [folder], progress=False, cache=True, cache_dir=tmp_path / "cache"
    )  # default minimum size
    engine.collect(WINDOW, None)
    assert not (tmp_path / "cache").exists()


def test_default_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path / "a"))
    assert cache_mod.default_dir() == tmp_path / "a"
    monkeypatch.delenv("CTLINT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_mod.default_dir() == tmp_path / "x" / "ctlint"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_mod.default_dir() == Path.home() / ".cache" / "ctlint"


def test_an_interrupted_write_keeps_the_old_cache_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    folder = logs(tmp_path / "logs")
    expected, _ = run(folder, tmp_path / "cache")
    before = {p.name: p.read_bytes() for p in (tmp_path / "cache").iterdir()}
    logs(folder, days=(4,))

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_mod.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(folder, tmp_path / "cache")
    after = {p.name: p.read_bytes() for p in (tmp_path / "cache").iterdir()}
    assert after == before  # the old cache, whole; no .tmp left behind
    monkeypatch.undo()
    raw, engine = run(folder, tmp_path / "cache")
    assert engine.stats["read"] == 1 and raw.stats.read == expected.stats.read + 6


def test_bad_files_fail_the_same_way_from_the_cache(tmp_path):
    folder = logs(tmp_path / "logs")
    write_records(folder / "bad.json", [{"eventName": "X", "eventSource": "s3.amazonaws.com"}])
    for _ in range(2):
        with pytest.raises(InputError, match="bad.json: record 1 has no eventTime"):
            run(folder, tmp_path / "cache")
    raw, engine = run(folder, tmp_path / "cache", skip_bad_files=True, max_skipped_share=0.5)
    assert engine.stats["read"] == 0 and raw.skipped_files == (str(folder / "bad.json"),)


def test_a_duplicate_delivery_counts_once_with_and_without_cache(tmp_path):
    folder = logs(tmp_path / "logs")
    shutil.copy(folder / "2026-06-02.json.gz", folder / "again.json.gz")
    expected = run(logs(tmp_path / "single"), None)[0]
    for cache_dir in (None, tmp_path / "cache", tmp_path / "cache"):
        raw, _ = run(folder, cache_dir)
        assert raw == expected


CONCURRENT = """
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from ctlint.model import Window
from ctlint.usage.local import LocalEngine
window = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))
for _ in range(5):
    engine = LocalEngine([Path(sys.argv[1])], progress=False, cache_dir=Path(sys.argv[2]), cache_min_bytes=0)
    print(engine.collect(window, None).stats.read)
    engine.close()
    # Make the next run write again. Replace atomically: the other process may be listing the folder,
    # and a half-written file is rightly refused as empty.
    staged = Path(sys.argv[2]).parent / f"touch-{os.getpid()}.tmp"
    staged.write_text(open(sys.argv[3]).read())
    os.replace(staged, Path(sys.argv[1]) / "touch.json")
"""


def test_two_concurrent_runs_sharing_a_cache_folder(tmp_path):
    folder = logs(tmp_path / "logs")
    extra = write_records(
        tmp_path / "extra.json",
        [event(iam_user(A, "carol"), "s3.amazonaws.com", "ListBuckets", "2026-06-09T00:00:00Z")],
    )
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(folder), str(tmp_path / "cache"), str(extra)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    raw, engine = run(folder, tmp_path / "cache")
    assert raw == run(folder, None)[0] and raw.stats.read == 19
    assert not list((tmp_path / "cache").glob(".*tmp*"))
