"""Issue 17's scale check on the third-party 116-principal account (../shared/realdata/iam), with logs
generated here: every principal that holds management actions uses a few of them.

Before grouping, the text report had one line per action; after, a few lines per granting statement.
The figures printed with `pytest -s` are the ones in README.md.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from cloudtrail_factory import assumed_role, event, iam_user, write_s3_layout

from ctlint.catalog import Catalog
from ctlint.events import MAPPED, map_event
from ctlint.inventory import read_snapshot
from ctlint.policy import compute_grants

pytestmark = pytest.mark.realdata

SNAPSHOT = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "realdata"
    / "iam"
    / "salesforce__cloudsplaining"
    / "example.json"
)
ACCOUNT = "200611803367"
GITHUB_COMMENT_LIMIT = 65_536
SARIF_LIMIT = 25_000


def _usable(action: str) -> tuple[str, str] | None:
    """An (eventSource, eventName) that maps back to `action`, if the plain naming does."""
    prefix, name = action.split(":", 1)
    source = f"{prefix}.amazonaws.com"
    mapped = map_event(source, name)
    return (source, name) if mapped.kind == MAPPED and action in mapped.actions else None


def _logs(tmp_path: Path) -> Path:
    catalog = Catalog.load()
    inventory = read_snapshot(
        SNAPSHOT, account_id=ACCOUNT, account_name="real", display_path="example.json"
    ).inventory
    rng = random.Random(17)
    records = []
    for i, principal in enumerate(inventory.principals):
        if principal.is_service_linked:
            continue
        granted = sorted(compute_grants(principal, catalog).actions)
        calls = [c for c in (_usable(a) for a in rng.sample(granted, min(len(granted), 40))) if c][:3]
        if principal.type == "user":
            identity = iam_user(ACCOUNT, principal.name)
        else:
            identity = assumed_role(
                ACCOUNT, principal.name, f"session-{i}", f"ASIA{i:016d}", path=principal.path
            )
        records.extend(event(identity, s, n, f"2026-07-{1 + i % 28:02d}T10:00:00Z") for s, n in calls)
    write_s3_layout(tmp_path / "logs", records)
    return tmp_path / "logs"


def test_real_account_reports_stay_readable(tmp_path, monkeypatch, capsys):
    if not SNAPSHOT.is_file():
        pytest.skip("../shared/realdata/iam is absent (third-party data is not part of the repository)")
    import dataclasses

    from ctlint.options import CheckOptions, InputOptions
    from ctlint.pipeline import run_check
    from ctlint.report.markdown import render_markdown
    from ctlint.report.sarif import render_sarif
    from ctlint.report.text import render_text

    logs = _logs(tmp_path)
    config = tmp_path / "ctlint.yaml"
    config.write_text(
        f'accounts:\n  - name: real\n    id: "{ACCOUNT}"\n    iam: {SNAPSHOT}\n'
        f"usage:\n  local:\n    paths: [{logs}]\nwindow:\n  start: 2026-06-01\n  end: 2026-11-01\n"
    )
    monkeypatch.chdir(tmp_path)
    result = run_check(CheckOptions(InputOptions(config=str(config))))
    text = render_text(result)
    before = render_text(dataclasses.replace(result, groups=(), principals=()))  # one line per action
    markdown = render_markdown(result)
    sarif = json.loads(render_sarif(result, repo_root=tmp_path))
    results = sarif["runs"][0]["results"]
    statements = [g for g in result.groups if g.statement is not None]
    figures = {
        "principals": len(result.principals),
        "per-action findings": len(result.findings),
        "grouped findings": len(result.groups),
        "statement findings": len(statements),
        "text lines before": before.count("\n"),
        "text lines after": text.count("\n"),
        "markdown bytes": len(markdown.encode()),
        "sarif results": len(results),
    }
    with capsys.disabled():
        print("\nissue 17 figures on the 116-principal account:", json.dumps(figures))
    assert len(result.principals) == 116
    # At most a few lines per granting statement: one line per group, plus the summary and headers.
    assert text.count("\n") <= len(result.groups) + 2 * len(result.principals) + 20
    assert text.count("\n") * 20 < before.count("\n")
    assert len(markdown) < GITHUB_COMMENT_LIMIT
    assert all(p.principal in markdown for p in result.principals), "the Markdown lists every principal"
    assert len(results) < SARIF_LIMIT / 5
    # One SARIF result per statement and rule: the statement identity survives.
    located = {(r["ruleId"], r["partialFingerprints"]["primaryLocationLineHash"]) for r in results}
    assert len(located) == len(results) == len(result.groups)
