"""Per-action findings held as runs (model.FindingRun): every stage that reads runs gives what it gave
when it read one Finding at a time, and the findings a run stands for are the ones the evaluator used to
build one by one (fields, fingerprint, message, order)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctlint.allowlist import apply_allowlist
from ctlint.baseline import Baseline, BaselineEntry, apply_baseline, load_baseline, write_baseline
from ctlint.catalog import Catalog
from ctlint.evaluate import AccountState, EvaluationInput, evaluate, fingerprint, in_finding_order
from ctlint.gating import tally
from ctlint.grouped_run import group_run
from ctlint.model import (
    AllowlistEntry,
    Finding,
    FindingRun,
    FindingRuns,
    Inventory,
    Level,
    Principal,
    RuleSpec,
    RunResult,
    SourceLocation,
    Usage,
    Window,
)
from ctlint.policy import compute_grants, parse_policy_document
from ctlint.report.json_report import FindingLines, finding_line, statement_dict

ACCOUNT = "111111111111"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
RULES = (
    RuleSpec("granted-unused", "granted-unused", Level.WARNING, "t", "d", "h"),
    RuleSpec("granted-unused-conditional", "granted-unused-conditional", Level.NOTE, "t", "d", "h"),
    RuleSpec("granted-unknown", "granted-unknown", Level.NOTE, "t", "d", "h"),
    RuleSpec("unused-actor", "unused-actor", Level.WARNING, "t", "d", "h"),
)


@pytest.fixture(scope="module")
def catalog():
    return Catalog.load()


def _principal(name: str, statements: list[dict]) -> Principal:
    document = parse_policy_document(
        {"Version": "2012-10-17", "Statement": statements},
        name=f"{name}-policy",
        kind="inline",
        where=name,
        location=SourceLocation("iam.json", 10),
    )
    return Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
        name=name,
        type="role",
        account_id=ACCOUNT,
        policies=(document,),
        location=SourceLocation("iam.json", 3),
    )


# A conditional grant of the s3 `*Object*` actions beside unconditional `s3:Get*` and `s3:Put*`:
# granted-unknown makes one run per verdict for the same principal (the object actions are data events),
# and their actions interleave in sort order (DeleteObject, GetObject, PutObject, RestoreObject, ...).
MIXED = [
    {"Effect": "Allow", "Action": ["s3:Get*", "s3:Put*", "ec2:*", "kms:Describe*"], "Resource": "*"},
    {
        "Effect": "Allow",
        "Action": "s3:*Object*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/team": "a"}},
    },
]


def _evaluation(catalog, principals: list[Principal], active: frozenset[str] = frozenset()):
    grants = {p.arn: compute_grants(p, catalog) for p in principals}
    inventory = Inventory(ACCOUNT, "demo", tuple(principals), "iam.json")
    accounts = (AccountState(inventory, grants),)
    usage = Usage(WINDOW, {})
    return accounts, usage, EvaluationInput(accounts, usage, active, RULES)


@pytest.fixture(scope="module")
def evaluated(catalog):
    principals = [
        _principal("mixed", MIXED),
        _principal("idle", [{"Effect": "Deny", "Action": "*", "Resource": "*"}]),
    ]
    accounts, usage, data = _evaluation(catalog, principals, frozenset({principals[0].arn}))
    return accounts, usage, evaluate(data, catalog)


def test_runs_stand_for_the_findings_one_by_one(evaluated, catalog):
    _accounts, _usage, findings = evaluated
    assert isinstance(findings, FindingRuns)
    listed = list(findings)
    assert len(listed) == len(findings) > 300 and len(findings.runs) < len(listed) / 20
    assert listed == sorted(listed, key=Finding.sort_key)  # one order, as the evaluator's sort gave
    for finding in listed:
        assert finding.fingerprint == fingerprint(
            finding.account, finding.principal, finding.rule, finding.action, finding.role
        )
        if finding.action is not None:
            assert finding.action in finding.message
            assert finding.access_level == catalog.info(finding.action).access_level
    # the interleaving verdicts of granted-unknown: both in one principal's stretch, cut into stretches
    verdicts = [f.properties["verdict"] for f in listed if f.rule == "granted-unknown"]
    changes = sum(1 for a, b in zip(verdicts, verdicts[1:], strict=False) if a != b)
    assert {"granted", "conditional"} <= set(verdicts) and changes > 2
    assert [f.rule for f in listed if f.action is None] == ["unused-actor"]
    assert (
        findings[0] == listed[0]
        and findings[-1] == listed[-1]
        and findings[len(listed) // 2] == listed[len(listed) // 2]
    )
    assert findings == listed and findings != listed[:-1]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefghij"), unique=True, min_size=1), min_size=1, max_size=5))
def test_interleaved_runs_come_out_in_finding_order(parts):
    import hashlib

    prefix = hashlib.sha256(b"a|p|r|")
    runs = [  # duplicate actions across runs too: ties keep the order the runs were made in
        FindingRun(
            "r", Level.NOTE, "a", "n", "p", "user", None, tuple(sorted(actions)), f"m{i} ", ".", prefix=prefix
        )
        for i, actions in enumerate(parts)
    ]
    ordered = list(in_finding_order(runs))
    findings = [f for run in ordered for f in run]
    expected = sorted((f for run in runs for f in run), key=Finding.sort_key)
    assert [(f.action, f.message) for f in findings] == [(f.action, f.message) for f in expected]


def _singles(findings) -> tuple[Finding, ...]:
    """The same findings, not as runs: every stage then sees runs of one."""
    return tuple(findings)


def test_allowlist_on_runs_equals_it_on_single_findings(evaluated):
    _accounts, _usage, findings = evaluated
    entries = [
        AllowlistEntry(0, "*mixed", "objects are fine", actions=("s3:*Object",)),
        AllowlistEntry(1, "*mixed", "kms reads", rules=("granted-unused",), actions=("kms:*",)),
        AllowlistEntry(2, "*idle", "idle is fine"),
        AllowlistEntry(3, "*nobody", "matches nothing"),
    ]
    on_runs = apply_allowlist(findings, entries, date(2026, 11, 1))
    on_singles = apply_allowlist(_singles(findings), entries, date(2026, 11, 1))
    assert list(on_runs.findings) == list(on_singles.findings)
    assert [f.suppressed_reason for f in on_runs.suppressed] == [
        f.suppressed_reason for f in on_singles.suppressed
    ]
    assert on_runs.warnings == on_singles.warnings == ("allowlist[3] (*nobody) matched no finding.",)
    assert len(on_runs.suppressed) > 5 and len(on_runs.findings) > 100 and len(on_runs.suppressed.runs) > 3


def test_baseline_on_runs_equals_it_on_single_findings(evaluated, tmp_path):
    _accounts, _usage, findings = evaluated
    listed = list(findings)
    known = {
        f.fingerprint: BaselineEntry(
            f.fingerprint, f.rule, f.account, f.principal, f.action, f.role, "2026-01-01"
        )
        for f in listed[::3]
    }
    gone = BaselineEntry("0" * 32, "granted-unused", ACCOUNT, "arn:gone", "s3:GetObject", None, "2026-01-01")
    baseline = Baseline(tmp_path / "b.json", {**known, gone.fingerprint: gone})
    marked, fixed = apply_baseline(findings, baseline)
    marked_singles, fixed_singles = apply_baseline(_singles(findings), baseline)
    assert list(marked) == list(marked_singles) and fixed == fixed_singles == (gone,)
    assert [f.baseline for f in marked] == ["unchanged" if i % 3 == 0 else "new" for i in range(len(listed))]


def _old_baseline_text(findings, previous, today, folder) -> str:
    """What write_baseline wrote before runs: one dict per entry, sorted, then json.dumps of it all."""
    import os

    entries = {}
    for f in findings:
        if f.fingerprint in entries:
            continue
        entry = {
            "fingerprint": f.fingerprint,
            "rule": f.rule,
            "account": f.account,
            "principal": f.principal,
            "action": f.action,
            "role": f.role,
            "first_seen": previous[f.fingerprint].first_seen if f.fingerprint in previous else today,
        }
        if f.location is not None:
            entry["path"] = os.path.relpath(os.path.abspath(f.location.path), os.path.abspath(folder))
        entries[f.fingerprint] = entry
    ordered = sorted(
        entries.values(),
        key=lambda e: (
            e["account"],
            e["principal"],
            e["rule"],
            e["action"] or "",
            e["role"] or "",
            e["fingerprint"],
        ),
    )
    return (
        json.dumps({"version": 1, "tool": "ctlint", "findings": ordered}, indent=2, ensure_ascii=False) + "\n"
    )


def test_the_streamed_baseline_file_is_the_one_json_dumps_wrote(evaluated, tmp_path):
    _accounts, _usage, findings = evaluated
    target = tmp_path / "baseline.json"
    written = write_baseline(target, findings, None, "2026-06-01")
    assert target.read_text() == _old_baseline_text(findings, {}, "2026-06-01", tmp_path)
    assert written.entries == len(findings) and written.kept == 0
    previous = load_baseline(target)
    again = write_baseline(target, findings, previous, "2026-07-01")
    assert again.kept == len(findings)
    assert target.read_text() == _old_baseline_text(findings, previous.entries, "2026-07-01", tmp_path)
    empty = tmp_path / "empty.json"
    write_baseline(empty, FindingRuns(), None, "2026-06-01")
    assert empty.read_text() == _old_baseline_text([], {}, "2026-06-01", tmp_path)


hostile = st.text(
    alphabet=st.sampled_from(["a", '"', "\\", "\n", "\u2028", "é", "\x01", "/", ":"]), max_size=6
)


@settings(max_examples=100, deadline=None)
@given(principal=hostile, rule=hostile, message=hostile, path=hostile, located=st.booleans())
def test_hostile_names_stream_into_the_same_baseline_and_lines(
    principal, rule, message, path, located, tmp_path_factory
):
    import hashlib

    name = f"arn:{principal}"
    prefix = hashlib.sha256("|".join((ACCOUNT, name, rule or "r", "")).encode())
    run = FindingRun(
        rule or "r", Level.WARNING, ACCOUNT, f"acct{message}", name, "user", None, ("s3:A", "s3:B\u2028"),
        message, f" {message}.", SourceLocation(f"p{path}", 2) if located else None,
        access_levels={"s3:A": "Write", "s3:B\u2028": None}, prefix=prefix, properties={"verdict": message},
    )  # fmt: skip
    findings = FindingRuns([run])
    lines = list(FindingLines().lines(findings))
    assert lines == [finding_line(f) for f in run]
    assert [json.loads(line)["message"] for line in lines] == [
        f"{message}s3:A {message}.",
        f"{message}s3:B\u2028 {message}.",
    ]
    folder = tmp_path_factory.mktemp("b")
    write_baseline(folder / "b.json", findings, None, "2026-06-01")
    assert (folder / "b.json").read_text() == _old_baseline_text(list(run), {}, "2026-06-01", folder)


def _result(findings, suppressed=(), groups=()) -> RunResult:
    return RunResult(
        tool_version="0",
        window=WINDOW,
        data=None,  # type: ignore[arg-type]
        accounts=(("demo", ACCOUNT),),
        rules=RULES,
        findings=findings,
        suppressed=suppressed,
        groups=groups,
        effective_fail_on="note",
    )


def test_counts_lines_and_groups_from_runs_equal_those_from_single_findings(evaluated, catalog):
    accounts, usage, findings = evaluated
    marked, _ = apply_baseline(findings, Baseline(None, {f.fingerprint: None for f in list(findings)[::7]}))  # type: ignore[arg-type]
    singles = _singles(marked)
    assert tally(_result(marked)) == tally(_result(singles))
    writer = FindingLines()
    assert list(writer.lines(marked)) == [finding_line(f) for f in singles]
    on_runs = group_run(accounts, usage, frozenset(), WINDOW, catalog, (), RULES, marked, ())
    on_singles = group_run(accounts, usage, frozenset(), WINDOW, catalog, (), RULES, singles, ())
    assert [statement_dict(g) for g in on_runs.groups] == [statement_dict(g) for g in on_singles.groups]
    assert [g.findings for g in on_runs.groups] == [g.findings for g in on_singles.groups]
    assert sum(g.action_count for g in on_runs.groups) >= len(findings)
    unmarked = group_run(accounts, usage, frozenset(), WINDOW, catalog, (), RULES, findings, ())
    assert sum(len(g.runs) for g in unmarked.groups) < len(findings) / 20  # stretches, not findings
