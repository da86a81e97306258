"""What `ctlint check` leaves out when nobody asked for it, without changing what it writes."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

import ctlint.report.text
from ctlint.atomic import is_discarded
from ctlint.cli import main

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"
CONFIG = str(DEMO / "ctlint.yaml")


def test_the_null_device_is_recognised_and_nothing_else_is(tmp_path):
    with open(os.devnull, "w") as null:
        assert is_discarded(null)
    with (tmp_path / "file").open("w") as regular:
        assert not is_discarded(regular)
    assert not is_discarded(io.StringIO())


def test_no_stdout_report_is_rendered_into_the_null_device(tmp_path, monkeypatch, capsys):
    reference = tmp_path / "reference.json"
    assert main(["check", "--config", CONFIG, "--json", str(reference)]) == 1
    assert "finding(s)" in capsys.readouterr().out  # the text report on a readable stdout

    def refuse(*_args, **_kwargs):
        raise AssertionError("the text report was rendered for /dev/null")

    monkeypatch.setattr(ctlint.report.text, "text_chunks", refuse)
    written = tmp_path / "report.json"
    with open(os.devnull, "w") as null:
        monkeypatch.setattr(sys, "stdout", null)
        assert main(["check", "--config", CONFIG, "--json", str(written)]) == 1  # the same exit code
    assert written.read_bytes() == reference.read_bytes()
    assert json.loads(written.read_text())["summary"]["gating"]["findings"] > 0


@pytest.mark.parametrize("fail_on", ["error", "warning", "note", "never"])
def test_the_tally_agrees_with_counting_one_by_one(fail_on, capsys):
    from ctlint.gating import is_gating

    assert main(["check", "--config", CONFIG, "--format", "json", "--fail-on", fail_on]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    findings = report["findings"]
    summary = report["summary"]

    class _F:
        def __init__(self, data):
            from ctlint.model import Level

            self.level = Level(data["level"])
            self.baseline = data.get("baseline")
            self.suppressed = "reason" in data

    assert summary["gating"]["findings"] == sum(1 for f in findings if is_gating(_F(f), fail_on))
    assert summary["by_level"] == {
        level: sum(1 for f in findings if f["level"] == level) for level in ("error", "warning", "note")
    }
    assert sum(summary["by_rule"].values()) == len(findings)


def test_a_warm_run_writes_the_same_bytes_as_a_cold_one(tmp_path, monkeypatch, capsys):
    import ctlint.grants_cache

    monkeypatch.setattr(ctlint.grants_cache, "CACHE_MIN_BYTES", 0)  # the demo's snapshots are tiny
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path / "cache"))
    outputs = []
    for _turn in ("cold", "warm"):
        report = tmp_path / "report.sarif"
        code = main(["check", "--config", CONFIG, "--format", "json", "--sarif", str(report)])
        outputs.append((code, capsys.readouterr().out, report.read_bytes()))
    assert list((tmp_path / "cache").rglob("*.grants.json"))  # the second run had grants to read
    assert outputs[0] == outputs[1]
