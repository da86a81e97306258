"""Faults: interrupted report writes, Ctrl-C and SIGTERM in the CLI, an Athena failure under `check`.

The Athena engine's own failure modes (throttling, FAILED/CANCELLED, timeout, S3 errors while reading
results, expired credentials, 5xx) are injected in tests/test_athena_engine.py; here only the gate
around it: a failed query ends `ctlint check` with exit 2 naming the query id and writes no report.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from test_athena_engine import REGION, aws, executions  # noqa: F401

import ctlint.atomic
from ctlint.atomic import write_text_atomic
from ctlint.cli import Terminated, main
from ctlint.errors import CtlintError

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "tests" / "malformed" / "base"
DEMO_CONFIG = str(ROOT / "examples" / "demo" / "ctlint.yaml")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- atomic writes


class _Breaks:
    """A file object that writes half of the text, then raises `error`."""

    def __init__(self, real, error: BaseException) -> None:
        self.real, self.error = real, error

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.real.close()

    def write(self, text: str) -> None:
        self.real.write(text[: len(text) // 2])
        self.real.flush()
        raise self.error


@pytest.mark.parametrize(
    ("error", "raised", "message"),
    [
        (KeyboardInterrupt(), KeyboardInterrupt, None),
        (Terminated(), Terminated, None),
        (
            OSError(errno.ENOSPC, "No space left on device"),
            CtlintError,
            "cannot write {path}: No space left on device.",
        ),
    ],
)
def test_interrupted_write_keeps_the_previous_file_and_leaves_no_temp(
    monkeypatch, tmp_path, error, raised, message
):
    path = tmp_path / "report.json"
    path.write_text("previous report\n")
    real_fdopen = os.fdopen
    monkeypatch.setattr(ctlint.atomic.os, "fdopen", lambda *a, **k: _Breaks(real_fdopen(*a, **k), error))
    with pytest.raises(raised) as caught:
        write_text_atomic(path, "new report " * 10000)
    if message:
        assert str(caught.value) == message.format(path=path)
    assert path.read_text() == "previous report\n"
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    write_text_atomic(path, "next run\n")  # the next run works
    assert path.read_text() == "next run\n" and leftovers(tmp_path) == []


def test_interrupt_at_the_rename_leaves_no_temp(monkeypatch, tmp_path):
    path = tmp_path / "report.sarif"
    monkeypatch.setattr(ctlint.atomic.os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(path, "{}")
    assert not path.exists() and leftovers(tmp_path) == []


def test_unwritable_output_is_exit_2_naming_the_path(capsys, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    code = main(["check", "--config", DEMO_CONFIG, "--json", str(blocker / "report.json")])
    _, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"ctlint: error: cannot write {blocker / 'report.json'}: a part of its folder {blocker} is a file."
    )


# ---------------------------------------------------------------- Ctrl-C and SIGTERM in the CLI


def _reports(tmp_path: Path) -> list[str]:
    return [
        arg
        for fmt in ("json", "sarif", "junit", "markdown")
        for arg in (f"--{fmt}", str(tmp_path / f"r.{fmt}"))
    ]


@pytest.mark.parametrize("stage", ["reading the logs", "rendering the SARIF report"])
def test_ctrl_c_exits_130_with_no_report_and_no_traceback(monkeypatch, capsys, tmp_path, stage):
    """Ctrl-C while the engine runs, or while the SARIF report renders (after JSON rendered): no file at all."""
    from ctlint.report import sarif
    from ctlint.usage.local import LocalEngine

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    if stage == "reading the logs":
        monkeypatch.setattr(LocalEngine, "collect", interrupted)
    else:
        monkeypatch.setattr(sarif, "render_sarif", interrupted)
    code = main(["check", "--config", DEMO_CONFIG, *_reports(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 130
    assert err.strip().splitlines()[-1] == "ctlint: interrupted; no report was written."
    assert "Traceback" not in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no report, no temporary file


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (RuntimeError("Query interrupted"), 130, "ctlint: interrupted; no report was written."),
        (
            ValueError("boom\nsecond line"),
            2,
            "ctlint: internal error: ValueError: boom second line (a bug in ctlint; no report was written; "
            "set CTLINT_DEBUG=1 to see where).",
        ),
    ],
)
def test_unexpected_exceptions_never_exit_1(monkeypatch, capsys, tmp_path, error, code, message):
    """DuckDB answers Ctrl-C with RuntimeError('Query interrupted'); any other bug is exit 2, not 1."""
    from ctlint.usage.local import LocalEngine

    def fails(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(LocalEngine, "collect", fails)
    code_seen = main(["check", "--config", DEMO_CONFIG, *_reports(tmp_path)])
    out, err = capsys.readouterr()
    assert code_seen == code
    assert err.strip() == message and out == ""
    assert list(tmp_path.iterdir()) == []


SLOW_QUERY = """
import sys, duckdb
import ctlint.usage.local as local
def slow(self, window, accounts, **options):
    con = duckdb.connect()
    print("ready", file=sys.stderr, flush=True)
    con.execute("SELECT count(*) FROM range(400000000) t(x) WHERE x % 7 = 3").fetchall()
local.LocalEngine.collect = slow
from ctlint.cli import main
sys.exit(main(sys.argv[1:]))
"""

SLOW_RUN = """
import sys, time
import ctlint.commands.check as check
real = check.run_check
def slow(args):
    result = real(args)
    print("ready", file=sys.stderr, flush=True)
    time.sleep(30)
    return result
check.run_check = slow
from ctlint.cli import Terminated, main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("script", "signum", "code", "word"),
    [
        (SLOW_RUN, signal.SIGINT, 130, "interrupted"),
        (SLOW_RUN, signal.SIGTERM, 143, "terminated"),
        (
            SLOW_QUERY,
            signal.SIGINT,
            130,
            "interrupted",
        ),  # inside a DuckDB query (honoured when it ends, at worst)
    ],
    ids=["sigint", "sigterm", "sigint-in-duckdb"],
)
def test_a_real_signal_ends_the_run_cleanly(tmp_path, script, signum, code, word):
    # A shell starts background jobs with SIGINT ignored, and a child inherits that (then Ctrl-C is not
    # ctlint's to handle): the child starts as from a terminal, with SIGINT at its default.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", script, "check", "--config", DEMO_CONFIG, *_reports(tmp_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, inherited)
    try:
        assert process.stderr.readline().strip() == "ready"
        time.sleep(0.5)  # let the slow part begin
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    assert f"ctlint: {word}; no report was written." in err
    assert "Traceback" not in err and out == ""
    assert list(tmp_path.iterdir()) == []
    # The next run works.
    done = subprocess.run(
        [sys.executable, "-m", "ctlint", "check", "--config", DEMO_CONFIG, *_reports(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.junit", "r.markdown", "r.sarif"]


# ---------------------------------------------------------------- Athena under `check`


def test_a_failed_athena_query_fails_the_gate_with_no_report(
    aws: boto3.Session,  # noqa: F811
    monkeypatch,
    capsys,
    tmp_path,
):
    from ctlint.usage.athena import AthenaEngine, AthenaSettings

    real_from_mapping = AthenaSettings.from_mapping.__func__
    monkeypatch.setattr(
        AthenaSettings,
        "from_mapping",
        classmethod(lambda cls, block, *, where: _fast(real_from_mapping(cls, block, where=where))),
    )
    monkeypatch.setattr(AthenaEngine, "_boto_session", lambda self: aws)
    selects: list[str] = []

    def fail_the_second_usage_query(**kwargs) -> None:
        execution = kwargs["parsed"]["QueryExecution"]
        if not execution["Query"].lstrip().upper().startswith(("SELECT", "WITH")):
            return
        if execution["QueryExecutionId"] not in selects:
            selects.append(execution["QueryExecutionId"])
        status = execution["Status"]
        if selects.index(execution["QueryExecutionId"]) == 1 and status["State"] == "SUCCEEDED":
            status["State"], status["StateChangeReason"] = "FAILED", "HIVE_CURSOR_ERROR: injected"

    aws.events.register("after-call.athena.GetQueryExecution", fail_the_second_usage_query)
    config = tmp_path / "ctlint.yaml"
    config.write_text(
        f"athena:\n  s3_bucket: logs-bucket\n  region: {REGION}\n  output_s3_bucket: s3://results-bucket/ctlint\n"
        f'accounts:\n  - name: prod\n    id: "111111111111"\n    iam: {json.dumps(str(BASE / "iam.json"))}\n'
        "window:\n  start: 2026-06-01\n  end: 2026-07-01\n"
    )
    report = tmp_path / "report.json"
    started = time.monotonic()
    code = main(["check", "--config", str(config), "--json", str(report)])
    out, err = capsys.readouterr()
    assert time.monotonic() - started < 15
    failed = selects[1]
    assert code == 2, err
    assert err.strip().splitlines()[-1].startswith("ctlint: error: Athena query assume_role (id ")
    assert f"(id {failed}) ended FAILED: HIVE_CURSOR_ERROR: injected." in err.strip().splitlines()[-1]
    assert "Traceback" not in err and out == "" and not report.exists()
    assert len(selects) == 2  # nothing ran after the failure: no report from partial results


def _fast(settings):
    from dataclasses import replace

    return replace(settings, poll_interval_s=0.001)


# ---------------------------------------------------------------- concurrency on a shared cache


def test_concurrent_runs_sharing_a_cache_directory_agree(tmp_path):
    """Four `ctlint usage` runs at once on one cache folder (logs past the cache threshold), then one more
    from the cache: every answer is the same, and no temporary file is left."""
    from cloudtrail_factory import event, iam_user, write_records

    logs = tmp_path / "logs"
    for day in range(1, 13):
        records = [
            event(
                iam_user("111111111111", f"u{i % 7}"),
                "s3.amazonaws.com",
                "CreateBucket",
                f"2026-06-{day:02d}T10:{i % 60:02d}:00Z",
                request_parameters={"pad": "x" * 200},
            )
            for i in range(400)
        ]
        write_records(logs / f"d{day}.json", records)
    assert sum(p.stat().st_size for p in logs.iterdir()) > 1 << 20
    env = {**os.environ, "CTLINT_CACHE_DIR": str(tmp_path / "cache")}

    def start(n: int) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "ctlint", "usage", str(logs), "--json", str(tmp_path / f"u{n}.json")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    runs = [start(n) for n in range(4)]
    for process in runs:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    last = start(9)
    assert last.communicate(timeout=60)[0] is None and last.returncode == 0
    answers = {(tmp_path / f"u{n}.json").read_text() for n in (0, 1, 2, 3, 9)}
    assert len(answers) == 1
    assert json.loads(answers.pop())["events"]["read"] == 12 * 400
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    # One complete file cache with its MAC and one answer cache, no temporary file.
    assert len(cached) == 3 and cached[0].startswith("answers-")
    assert cached[1].endswith(".duckdb") and cached[2] == cached[1] + ".mac"
