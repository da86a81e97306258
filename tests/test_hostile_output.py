"""Hostile runs of the gate's output side: a reader that goes away, a full disk, a folder as report path,
SIGTERM inside a DuckDB query. None of them may exit 0 or leave a partial set of reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_reliability_faults import DEMO_CONFIG, ROOT, SLOW_QUERY, _reports

from ctlint.cli import main

CTLINT = [sys.executable, "-m", "ctlint"]


@pytest.mark.parametrize("command", ["check", "suggest", "fix"])
def test_a_run_started_with_stdout_closed_is_exit_2_with_one_sentence(command):
    """`ctlint check >&-`: Python then has no sys.stdout at all; the run must fail closed, not crash."""
    run = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m ctlint {command} --config "{DEMO_CONFIG}" >&-'],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "ctlint: error: standard output is closed; no report can be written."
    ]


def test_a_big_report_to_a_closed_pipe_is_exit_2(tmp_path):
    """`ctlint check | head`: the reader went away (closed here before ctlint writes, to be deterministic).

    Python leaves SIGPIPE ignored, so the write raises BrokenPipeError, as it does in CI."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        run = subprocess.run(
            [*CTLINT, "check", "--config", DEMO_CONFIG, *_reports(tmp_path)],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        "ctlint: error: standard output was closed before the report was complete (broken pipe)."
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full is Linux-only")
def test_a_full_stdout_is_exit_2_with_a_sentence(tmp_path):
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [*CTLINT, "check", "--config", DEMO_CONFIG, *_reports(tmp_path)],
            cwd=ROOT,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        "ctlint: error: cannot write standard output: No space left on device."
    )
    assert "internal error" not in run.stderr and "Exception ignored" not in run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("spelling", ["folder", "folder/"])
def test_a_folder_as_report_path_writes_no_report_at_all(capsys, tmp_path, spelling):
    (tmp_path / "folder").mkdir()
    target = str(tmp_path / spelling)
    json_report = tmp_path / "r.json"
    code = main(["check", "--config", DEMO_CONFIG, "--json", str(json_report), "--sarif", target])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"ctlint: error: cannot write {tmp_path / 'folder'}: it is a folder; give a file name."
    )
    assert not json_report.exists() and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_sigterm_inside_a_duckdb_query_exits_143(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_QUERY, "check", "--config", DEMO_CONFIG, *_reports(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr.readline().strip() == "ready"
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err
    assert "ctlint: terminated; no report was written." in err
    assert "Traceback" not in err and out == ""
    assert list(tmp_path.iterdir()) == []
