"""Baselines recorded before grouping (issue 17) still match: fingerprints stay per action.

The fixtures were written by `ctlint baseline` on the examples with the code before findings were
grouped per statement; a check against them must find every finding unchanged and nothing fixed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctlint.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "baselines"


@pytest.mark.parametrize(
    ("config", "baseline"),
    [
        ("examples/demo/ctlint.yaml", "demo-before-grouping.json"),
        ("examples/terraform/ctlint.yaml", "terraform-before-grouping.json"),
    ],
)
def test_a_baseline_written_before_grouping_still_matches(capsys, monkeypatch, config, baseline):
    monkeypatch.chdir(ROOT)
    path = FIXTURES / baseline
    recorded = {e["fingerprint"] for e in json.loads(path.read_text(encoding="utf-8"))["findings"]}
    code = main(["check", "--config", config, "--baseline", str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0  # nothing new: the gate passes
    assert report["fixed"] == []
    assert {f["fingerprint"] for f in report["findings"]} == recorded
    assert {f["baseline"] for f in report["findings"]} == {"unchanged"}
