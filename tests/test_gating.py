"""One notion of gating: the exit code, every report and the GitHub Action count the same findings.

The demo is checked through the action's own step script (bash, a fake $GITHUB_* environment, the real
ctlint) for every --fail-on level, with and without a baseline; the test then reads what each consumer
would: the exit code, the text report's gate line, the JSON summary, the Markdown verdict, the JUnit
failures and the action's outputs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from ctlint.cli import main
from ctlint.gating import is_gating

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo" / "ctlint.yaml"
ACTION = REPO / "action.yml"
LEVELS = ("error", "warning", "note", "never")


def _step_script() -> str:
    return next(s for s in yaml.safe_load(ACTION.read_text())["runs"]["steps"] if s.get("id") == "check")[
        "run"
    ]


def run_action(tmp_path: Path, **inputs: str) -> tuple[int, dict[str, str], str, str]:
    """The action's check step, run as GitHub runs it, with the ctlint of this environment on PATH."""
    defaults = {k: str(v.get("default", "")) for k, v in yaml.safe_load(ACTION.read_text())["inputs"].items()}
    defaults.update({k.replace("_", "-"): v for k, v in inputs.items()})
    outputs, summary = tmp_path / "github-output", tmp_path / "step-summary.md"
    outputs.write_text("")
    summary.write_text("")
    (tmp_path / "runner").mkdir(exist_ok=True)
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "CTLINT_CACHE_DIR": str(tmp_path / "cache"),
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_REPOSITORY": "ctlint/ctlint",
        **{
            f"CTLINT_{k.upper().replace('-', '_')}": v
            for k, v in defaults.items()
            if not v.startswith("${{")  # github-token's default is an expression only GitHub evaluates
        },
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _step_script()],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    parsed = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return done.returncode, parsed, done.stdout, done.stderr


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """The demo's findings as a baseline, minus three of them (which are then "new")."""
    path = tmp_path_factory.mktemp("baseline") / "baseline.json"
    assert (
        main(["check", "--config", str(DEMO), "--baseline", str(path), "--update-baseline", "-o", os.devnull])
        == 0
    )
    document = json.loads(path.read_text())
    document["findings"] = document["findings"][3:]
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("with_baseline", [False, True], ids=["no-baseline", "baseline"])
@pytest.mark.parametrize("fail_on", LEVELS)
def test_every_consumer_counts_the_findings_that_decide_the_exit_code(
    tmp_path, fail_on, with_baseline, request
):
    extra = {"baseline": str(request.getfixturevalue("baseline"))} if with_baseline else {}
    json_path, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    rc, out, text, err = run_action(
        tmp_path,
        config=str(DEMO),
        fail_on=fail_on,
        sarif="",
        junit=str(junit),
        markdown=str(tmp_path / "summary.md"),
        args=f'--json "{json_path}" --no-color',
        **extra,
    )
    report = json.loads(json_path.read_text())
    gating = report["summary"]["gating"]
    expected = sum(
        1
        for f in report["findings"]
        if fail_on != "never"
        and f.get("baseline") != "unchanged"
        and ["note", "warning", "error"].index(f["level"]) >= ["note", "warning", "error"].index(fail_on)
    )
    assert gating == {"fail_on": fail_on, "findings": expected}
    assert report["summary"]["findings"] > 0  # the demo has findings at every level but error
    # exit code (the action's and the CLI's, before soft-fail)
    assert out["exit-code"] == str(1 if expected else 0) and rc == (1 if expected else 0), err
    # the action's own count
    assert out["gating"] == str(expected)
    assert out["findings"] == str(report["summary"]["findings"])
    # the text report
    if fail_on == "never":
        assert "--fail-on never: no finding fails the run." in text
    elif expected:
        assert f"{expected} finding(s) at or above --fail-on {fail_on} fail the run." in text
    else:
        assert f"no finding at or above --fail-on {fail_on}: the run passes." in text
    # Markdown verdict
    markdown = (tmp_path / "summary.md").read_text()
    verdict = markdown.splitlines()[0]
    if expected:
        assert re.search(rf"❌ {expected} findings? fails? the gate", verdict), verdict
    else:
        assert verdict.startswith("## ctlint: ✅"), verdict
    # JUnit: one failing case per (rule, principal) with a gating finding
    failing_cases = {
        (f["rule"], f["principal"])
        for f in report["findings"]
        if is_gating(_Finding(f), fail_on)  # the same predicate, on the JSON's fields
    }
    root = ET.fromstring(junit.read_bytes())
    assert int(root.get("failures")) == len(failing_cases)
    # baseline states are visible
    if with_baseline:
        unchanged = report["summary"]["unchanged"]
        assert unchanged == report["summary"]["findings"] - 3
        assert f"Baseline: 3 new, {unchanged} unchanged, 0 fixed." in text
        assert "(unchanged)" in text and "(new)" in text
        assert "3 new" in verdict


class _Finding:
    """A JSON finding seen through the fields gating reads."""

    def __init__(self, data: dict) -> None:
        from ctlint.model import Level

        self.level = Level(data["level"])
        self.baseline = data.get("baseline")
        self.suppressed = False


def test_update_baseline_writes_and_exits_0_and_needs_a_baseline(tmp_path, capsys):
    path = tmp_path / "b.json"
    assert (
        main(["check", "--config", str(DEMO), "--baseline", str(path), "--update-baseline", "-o", os.devnull])
        == 0
    )
    assert len(json.loads(path.read_text())["findings"]) == 16
    capsys.readouterr()
    assert main(["check", "--config", str(DEMO), "--update-baseline"]) == 2
    captured = capsys.readouterr()
    assert "ctlint: error: --update-baseline needs --baseline FILE" in captured.err and captured.out == ""


def test_summary_file_has_the_gate_counts(tmp_path, capsys):
    path = tmp_path / "counts.json"
    code = main(
        ["check", "--config", str(DEMO), "--fail-on", "warning", "--summary", str(path), "-o", os.devnull]
    )
    counts = json.loads(path.read_text())
    assert code == counts["exit_code"] == 1
    assert counts["fail_on"] == "warning" and counts["gating"] == 12 and counts["below_threshold"] == 4
    assert counts["findings"] == 16 and counts["suppressed"] == 2
    assert path.stat().st_size < 1000
