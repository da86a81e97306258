"""Fail closed on bad input: every file of the tests/malformed corpus, through the real CLI.

Each case asserts exit 2, one line on stderr naming the file, record or key, no traceback and no
report on stdout. The legitimate oddities (no userIdentity, 1 MB requestParameters, duplicate delivery,
empty folders beside good ones) must work and count right. `--skip-bad-files` is tested on both sides
of `usage.local.max_skipped_share`, with the skipped file in every report format.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ctlint.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "malformed"
BASE = CORPUS / "base"
ACCOUNT = "111111111111"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    assert out == ""  # no report when the input is bad
    lines = [line for line in err.splitlines() if line.startswith("ctlint: error:")]
    assert len(lines) == 1, err
    (line,) = lines
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def config_text(
    iam: Path = BASE / "iam.json", paths: tuple[Path, ...] = (BASE / "logs",), extra: str = ""
) -> str:
    listed = ", ".join(json.dumps(str(p)) for p in paths)
    return (
        f'accounts:\n  - name: prod\n    id: "{ACCOUNT}"\n    iam: {json.dumps(str(iam))}\n'
        f"usage:\n  local:\n    paths: [{listed}]\n{extra}"
        "window:\n  start: 2026-06-01\n  end: 2026-07-01\n"
    )


def write_config(tmp_path: Path, **kwargs) -> str:
    path = tmp_path / "ctlint.yaml"
    path.write_text(config_text(**kwargs))
    return str(path)


def test_the_base_of_the_corpus_is_good(capsys, tmp_path):
    """Every malformed file differs from this one good account in one way; the base itself works."""
    code, out, err = run(capsys, "check", "--config", write_config(tmp_path), "--format", "json")
    assert code == 1 and "Traceback" not in err
    findings = json.loads(out)["findings"]
    assert {f["action"] for f in findings if f["rule"] == "granted-unused"} == {"ec2:DescribeInstances"}


# ---------------------------------------------------------------- config

CONFIG_CASES = {
    "unknown-key.yaml": ["(top level): unknown key 'windw' (did you mean 'window'?)"],
    "unknown-nested-key.yaml": ["usage.local: unknown key 'path' (did you mean 'paths'?)"],
    "wrong-type-accounts.yaml": ["accounts: 'prod' should be of type array"],
    "wrong-type-skip.yaml": ["usage.local.skip_bad_files: 'sometimes' should be of type boolean"],
    "missing-accounts.yaml": ["(top level): 'accounts' is required"],
    "empty-accounts.yaml": ["accounts: [] should be non-empty"],
    "bad-account-id.yaml": ["accounts[0].id: '11111111111' is not a 12-digit account id"],
    "duplicate-account-id.yaml": ["accounts[1].id: 111111111111 is already used by accounts[0]"],
    "duplicate-account-name.yaml": ["accounts[1].name: 'prod' is already used by accounts[0]"],
    "duplicate-yaml-key.yaml": ["duplicate key 'end' at line 11"],
    "snapshot-missing.yaml": ["accounts[0].iam: the IAM snapshot", "no-such-snapshot.json does not exist"],
    "logs-missing.yaml": ["CloudTrail path", "no-such-logs' does not exist"],
    "window-start-after-end.yaml": ["window.start 2026-08-01 is not before window.end 2026-07-01"],
    "window-not-a-date.yaml": ["window.start: '2026-13-01' is not a date (YYYY-MM-DD)"],
    "window-in-future.yaml": ["window.end 2099-01-01 is in the future"],
    "window-start-in-future.yaml": ["window.start 2099-01-01 is in the future"],
    "allowlist-no-reason.yaml": ["allowlist[0]: 'reason' is required"],
    "allowlist-blank-reason.yaml": ["allowlist[0].reason: a reason is required for every allowlist entry"],
    "python-tag.yaml": [
        "is not valid YAML at line 11",
        "could not determine a constructor",
        "python/object/apply",
    ],
    "not-yaml.yaml": ["is not valid YAML at line 3"],
    "not-a-mapping.yaml": ["the config must be a mapping with at least an 'accounts' list"],
    "empty.yaml": ["the config must be a mapping with at least an 'accounts' list"],
    "elasticsearch.yaml": ["'elasticsearch' is CloudTracker's Elasticsearch backend"],
}


def test_every_config_case_is_covered():
    assert set(CONFIG_CASES) == {p.name for p in (CORPUS / "config").glob("*.yaml")}


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_bad_config(capsys, name):
    path = CORPUS / "config" / name
    code, out, err = run(capsys, "check", "--config", str(path))
    # Every message names the config file, except a missing CloudTrail path, which names that path.
    named = str(path) if name != "logs-missing.yaml" else "no-such-logs"
    assert_one_line_error(code, out, err, named, *CONFIG_CASES[name])


def test_python_tag_runs_nothing(capsys, tmp_path):
    marker = Path("/tmp/ctlint-pwned")
    marker.unlink(missing_ok=True)
    code, out, err = run(capsys, "check", "--config", str(CORPUS / "config" / "python-tag.yaml"))
    assert_one_line_error(code, out, err, "python/object/apply")
    assert not marker.exists()


# ---------------------------------------------------------------- IAM snapshots

IAM_CASES = {
    "not-json.json": ["the IAM snapshot is not valid JSON (Expecting value: line 1 column 1)"],
    "not-authz.json": ["not the output of aws iam get-account-authorization-details (no UserDetailList"],
    "json-array.json": ["the JSON is a list, not the output of aws iam get-account-authorization-details"],
    "truncated.json": ["the IAM snapshot is truncated"],
    "empty.json": ["the IAM snapshot is empty"],
    "managed-policy-absent.json": [
        "user alice has managed policy arn:aws:iam::111111111111:policy/ro attached, but the snapshot's Policies list"
    ],
    "group-absent.json": ["user alice is in group 'devs', which the snapshot's GroupDetailList lacks"],
    "policy-invalid-json.json": ["user alice, inline policy 's3': the policy document is not valid JSON"],
    "policy-bad-url-encoding.json": [
        "user alice, inline policy 's3': the policy document is not valid URL-encoded"
    ],
    "effect-permit.json": [
        "user alice, inline policy 's3': statement 1: Effect 'Permit' is not Allow or Deny"
    ],
    "empty-statement.json": [
        "managed policy arn:aws:iam::111111111111:policy/ro: the policy document has an empty Statement"
    ],
    "other-account.json": [
        "the snapshot belongs to account 999999999999",
        "the config gives account 111111111111",
    ],
    "duplicate-principal.json": ["principal arn:aws:iam::111111111111:user/alice appears twice"],
}


def test_every_iam_case_is_covered():
    assert set(IAM_CASES) == {p.name for p in (CORPUS / "iam").glob("*.json")}


@pytest.mark.parametrize("name", sorted(IAM_CASES))
def test_bad_snapshot(capsys, tmp_path, name):
    config = write_config(tmp_path, iam=CORPUS / "iam" / name)
    code, out, err = run(capsys, "check", "--config", config)
    assert_one_line_error(code, out, err, f"iam/{name}", *IAM_CASES[name])


# ---------------------------------------------------------------- CloudTrail files

CLOUDTRAIL_CASES = {
    "corrupt.json.gz": ["cannot be read: "],  # then zlib's or ISA-L's words
    "truncated.json.gz": ["cannot be read: Compressed file ended before the end-of-stream marker"],
    "not-gzip.json.gz": ["cannot be read: Not a gzipped file"],
    "not-json.json": ["is not readable CloudTrail JSON: invalid literal"],
    "truncated.json": ["is not readable CloudTrail JSON: unexpected end of data"],
    "empty.json": ["is empty"],
    "no-event-source.json": ["record 1 (eventID evt-ListBuckets-2026-06-04T10:00:00Z) has no eventSource"],
    "no-event-name.json": ["record 1 (eventID evt-ListBuckets-2026-06-04T10:00:00Z) has no eventName"],
    "no-event-time.json": ["record 1 (eventID evt-ListBuckets-2026-06-04T10:00:00Z) has no eventTime"],
    "bad-event-time.json": ["has an unreadable eventTime 04/06/2026 10:00"],
    "impossible-event-time.json": ["has an unreadable eventTime 2026-02-30T10:00:00Z"],
    "records-not-a-list.json": ["is not readable CloudTrail JSON: Records is not a list"],
}


def test_every_cloudtrail_case_is_covered():
    assert set(CLOUDTRAIL_CASES) == {p.name for p in (CORPUS / "cloudtrail").iterdir()}


@pytest.mark.parametrize("name", sorted(CLOUDTRAIL_CASES))
def test_bad_cloudtrail_file_fails_check(capsys, tmp_path, name):
    bad = CORPUS / "cloudtrail" / name
    config = write_config(tmp_path, paths=(BASE / "logs", bad))
    code, out, err = run(capsys, "check", "--config", config)
    assert_one_line_error(code, out, err, f"CloudTrail file {bad}", *CLOUDTRAIL_CASES[name])


@pytest.mark.parametrize("name", sorted(CLOUDTRAIL_CASES))
def test_bad_cloudtrail_file_fails_usage(capsys, name):
    bad = CORPUS / "cloudtrail" / name
    code, out, err = run(capsys, "usage", str(BASE / "logs"), str(bad))
    assert_one_line_error(code, out, err, f"CloudTrail file {bad}", *CLOUDTRAIL_CASES[name])


def test_a_large_truncated_gzip_names_the_file(capsys, tmp_path):
    """Cut after the first 4 KB the engine sniffs: DuckDB meets the end, and ctlint still names the file."""
    records = [_record(eventID=f"e{i}", requestID=f"r{i}") for i in range(3000)]
    data = gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)
    bad = tmp_path / "cut.json.gz"
    bad.write_bytes(data[: len(data) // 2])
    code, out, err = run(capsys, "usage", str(bad))
    assert_one_line_error(code, out, err, f"CloudTrail file {bad} cannot be read: Compressed file ended")


def test_subprocess_shows_no_traceback(tmp_path):
    """The installed entry point (python -m ctlint), not just main(): a bad gzip and a bad config."""
    for argv in (
        ["usage", str(CORPUS / "cloudtrail" / "corrupt.json.gz")],
        ["check", "--config", str(CORPUS / "config" / "unknown-key.yaml")],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ctlint", *argv], capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert done.returncode == 2
        assert done.stdout == "" and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("ctlint: error: ")


# ---------------------------------------------------------------- legitimate oddities


def _record(**changes) -> dict:
    body = gzip.decompress(next((BASE / "logs").glob("*.json.gz")).read_bytes())
    record = dict(json.loads(body)["Records"][0])
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


def _usage_json(capsys, tmp_path, *paths: Path, extra: tuple[str, ...] = ()) -> dict:
    out = tmp_path / "usage.json"
    code, _, err = run(capsys, "usage", *map(str, paths), "--json", str(out), *extra)
    assert code == 0, err
    assert "Traceback" not in err
    return json.loads(out.read_text())


def test_record_without_user_identity_counts_for_nobody(capsys, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.json").write_text(
        json.dumps(
            {
                "Records": [
                    _record(
                        userIdentity=...,
                        eventSource="signin.amazonaws.com",
                        eventName="ConsoleLogin",
                        eventID="x1",
                    ),
                    _record(eventID="x2"),
                ]
            }
        )
    )
    document = _usage_json(capsys, tmp_path, logs)
    assert document["events"] == {"read": 2, "counted": 1, "errors": 0}
    assert [p["principal"] for p in document["principals"]] == [ALICE]


def test_one_megabyte_request_parameters_are_read(capsys, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    big = {"policy": "x" * (1 << 20), "nested": [{"k": "v" * 1000}] * 50}
    (logs / "big.json").write_text(json.dumps({"Records": [_record(requestParameters=big, eventID="big")]}))
    assert (logs / "big.json").stat().st_size > 1 << 20
    document = _usage_json(capsys, tmp_path, logs)
    assert document["principals"][0]["actions"] == {
        "s3:CreateBucket": {"count": 1, "last_seen": "2026-06-02T10:00:00Z"}
    }


def test_duplicate_delivery_under_two_paths_does_not_double(capsys, tmp_path):
    logs = tmp_path / "logs"
    shutil.copytree(
        BASE / "logs", logs / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / "2026" / "06" / "02"
    )
    shutil.copytree(BASE / "logs", logs / "redelivered")  # the same file, a second time, elsewhere
    once = _usage_json(capsys, tmp_path, BASE / "logs")
    twice = _usage_json(capsys, tmp_path, logs)
    assert twice == once
    assert twice["principals"][0]["actions"]["s3:CreateBucket"]["count"] == 1
    assert twice["events"]["read"] == 2
    # The same folder given twice and through a glob: still read once.
    thrice = _usage_json(
        capsys, tmp_path, BASE / "logs", BASE / "logs", Path(str(BASE / "logs") + "/*.json.gz")
    )
    assert thrice == once


def test_empty_folders_beside_logs_are_fine_but_alone_fail_closed(capsys, tmp_path):
    (tmp_path / "empty" / "AWSLogs" / ACCOUNT).mkdir(parents=True)
    document = _usage_json(capsys, tmp_path, BASE / "logs", tmp_path / "empty")
    assert document["events"]["read"] == 2
    code, out, err = run(capsys, "usage", str(tmp_path / "empty"))
    assert_one_line_error(
        code, out, err, "no CloudTrail files (.json or .json.gz) found under", str(tmp_path / "empty")
    )
    config = write_config(tmp_path, paths=(tmp_path / "empty",))
    code, out, err = run(capsys, "check", "--config", config)
    assert_one_line_error(code, out, err, "no CloudTrail files (.json or .json.gz) found under")


def test_zero_events_for_an_account_in_the_window_fails_closed(capsys, tmp_path):
    # A second account with a snapshot of its own (the base one rewritten to 222222222222) and no logs.
    config = tmp_path / "ctlint.yaml"
    snapshot = tmp_path / "quiet.json"
    snapshot.write_text((BASE / "iam.json").read_text().replace(ACCOUNT, "222222222222"))
    config.write_text(
        config_text().replace(
            "usage:", f'  - name: quiet\n    id: "222222222222"\n    iam: {json.dumps(str(snapshot))}\nusage:'
        )
    )
    code, out, err = run(capsys, "check", "--config", str(config))
    assert_one_line_error(
        code,
        out,
        err,
        "account quiet (222222222222) has no CloudTrail events between 2026-06-01 and 2026-07-01",
        "refusing to call every permission unused",
    )
    # Events exist, but outside the window: the same refusal, naming the window.
    code, out, err = run(
        capsys, "check", "--config", str(config), "--start", "2026-07-01", "--end", "2026-08-01"
    )
    assert_one_line_error(
        code, out, err, "account prod (111111111111) has no CloudTrail events between 2026-07-01"
    )


# ---------------------------------------------------------------- --skip-bad-files


def _skip_setup(tmp_path: Path, share: float) -> tuple[Path, Path]:
    logs = tmp_path / "logs"
    shutil.copytree(BASE / "logs", logs)
    for i in range(3):  # 4 good files, so one bad file is 20 % of 5
        record = _record(eventID=f"more{i}", eventTime=f"2026-06-1{i}T10:00:00Z")
        (logs / f"more{i}.json").write_text(json.dumps({"Records": [record]}))
    bad = logs / "broken.json.gz"
    shutil.copy(CORPUS / "cloudtrail" / "truncated.json.gz", bad)
    config = tmp_path / "ctlint.yaml"
    config.write_text(config_text(paths=(logs,), extra=f"    max_skipped_share: {share}\n"))
    return config, bad


def test_strict_by_default_even_with_a_share_configured(capsys, tmp_path):
    config, bad = _skip_setup(tmp_path, 0.5)
    code, out, err = run(capsys, "check", "--config", str(config))
    assert_one_line_error(code, out, err, f"CloudTrail file {bad} cannot be read")


def test_skip_bad_files_within_the_share_reads_on_and_reports_the_file(capsys, tmp_path):
    config, bad = _skip_setup(tmp_path, 0.25)
    reports = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "sarif", "junit", "markdown")}
    code, out, err = run(
        capsys,
        "check",
        "--config",
        str(config),
        "--skip-bad-files",
        "--format",
        "text",
        *(arg for fmt, path in reports.items() for arg in (f"--{fmt}", str(path))),
    )
    assert code == 1, err  # findings, not an input error
    assert "Traceback" not in err
    assert f"ctlint: warning: skipped unreadable file {bad}" in err
    assert str(bad) in out  # the text report
    document = json.loads(reports["json"].read_text())
    assert document["skipped_files"] == [str(bad)]
    sarif = json.loads(reports["sarif"].read_text())
    notes = [
        n["message"]["text"]
        for inv in sarif["runs"][0]["invocations"]
        for n in inv["toolExecutionNotifications"]
    ]
    assert any(str(bad) in text for text in notes)
    junit = ET.parse(reports["junit"]).getroot()
    assert str(bad) in {p.get("value") for p in junit.iter("property") if p.get("name") == "skipped_file"}
    assert str(bad) in reports["markdown"].read_text()


def test_skip_bad_files_past_the_share_still_exits_2(capsys, tmp_path):
    config, bad = _skip_setup(tmp_path, 0.1)
    json_report = tmp_path / "report.json"
    code, out, err = run(
        capsys, "check", "--config", str(config), "--skip-bad-files", "--json", str(json_report)
    )
    assert_one_line_error(
        code,
        out,
        err,
        "1 of 5 CloudTrail files are unreadable (20%, more than the allowed 10%); the first: "
        f"CloudTrail file {bad} cannot be read",
    )
    assert not json_report.exists()


def test_skip_bad_files_in_the_config(capsys, tmp_path):
    config, bad = _skip_setup(tmp_path, 0.25)
    config.write_text(
        config.read_text().replace("    max_skipped_share", "    skip_bad_files: true\n    max_skipped_share")
    )
    code, out, err = run(capsys, "check", "--config", str(config), "--format", "json")
    assert code == 1 and json.loads(out)["skipped_files"] == [str(bad)]


def test_usage_skip_bad_files_both_sides(capsys, tmp_path):
    _, bad = _skip_setup(tmp_path, 0)
    document = _usage_json(
        capsys, tmp_path, bad.parent, extra=("--skip-bad-files", "--max-skipped-share", "0.2")
    )
    assert document["skipped_files"] == [str(bad)]
    assert document["events"]["read"] == 5
    code, out, err = run(capsys, "usage", str(bad.parent), "--skip-bad-files", "--max-skipped-share", "0.19")
    assert_one_line_error(
        code, out, err, "1 of 5 CloudTrail files are unreadable (20%, more than the allowed 19%)"
    )


# ---------------------------------------------------------------- --skip-bad-records


@pytest.mark.parametrize("how", ["flag", "config"])
def test_skip_bad_records_drops_the_record_and_says_so_in_every_report(capsys, tmp_path, how):
    logs = tmp_path / "logs"
    shutil.copytree(BASE / "logs", logs)
    good = _record(eventID="fine-1", eventTime="2026-06-12T10:00:00Z")
    timeless = _record(eventID="no-time-1", eventTime=...)
    mixed = logs / "mixed.json"
    mixed.write_text(json.dumps({"Records": [good, timeless]}))
    config = tmp_path / "ctlint.yaml"
    extra = "    skip_bad_records: true\n" if how == "config" else ""
    config.write_text(config_text(paths=(logs,), extra=extra))
    strict = run(capsys, "check", "--config", str(config)) if how == "flag" else None
    if strict is not None:  # without the flag: fail closed on the file, naming the record
        assert_one_line_error(
            *strict, f"CloudTrail file {mixed}: record 2 (eventID no-time-1) has no eventTime"
        )
    report = tmp_path / "report.json"
    code, out, err = run(
        capsys,
        "check",
        "--config",
        str(config),
        "--no-cache",
        "--json",
        str(report),
        *(["--skip-bad-records"] if how == "flag" else []),
    )
    assert code == 1, err
    assert "Traceback" not in err and "dropped 1 CloudTrail record(s) without eventSource" in err
    document = json.loads(report.read_text())
    assert any("dropped 1 CloudTrail record(s)" in w for w in document["warnings"])
    assert document["skipped_files"] == []  # the file's good record counted
