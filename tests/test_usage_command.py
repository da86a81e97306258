"""`ctlint usage`: the JSON contract, text output, window defaults and fail-closed input."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cloudtrail_factory import assumed_role, event, iam_user, write_records, write_s3_layout

from ctlint.cli import main
from ctlint.commands.usage import window_from
from ctlint.errors import ConfigError

A = "111111111111"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    alice = iam_user(A, "alice")
    role = assumed_role(A, "deployer", "ci", "ASIADEPLOY000000001")
    write_s3_layout(
        tmp_path / "logs",
        [
            event(alice, "s3.amazonaws.com", "ListBuckets", "2026-06-01T10:00:00Z"),
            event(alice, "s3.amazonaws.com", "ListBuckets", "2026-06-03T10:00:00Z"),
            event(alice, "monitoring.amazonaws.com", "DescribeAlarms", "2026-06-02T10:00:00Z"),
            event(
                alice, "iam.amazonaws.com", "CreateUser", "2026-06-02T11:00:00Z", error_code="AccessDenied"
            ),
            event(alice, "signin.amazonaws.com", "ConsoleLogin", "2026-06-02T09:00:00Z"),
            event(alice, "s3.amazonaws.com", "NoSuchOperationEver", "2026-06-02T09:00:00Z"),
            event(role, "lambda.amazonaws.com", "CreateFunction20150331", "2026-06-04T10:00:00Z"),
        ],
    )
    return tmp_path / "logs"


def test_json_contract(logs, tmp_path, capsys):
    out = tmp_path / "usage.json"
    assert main(["usage", str(logs), "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert set(document) == {"principals", "no_iam_action", "unmapped", "events", "sessions"}
    assert document["sessions"] == [
        {
            "role": f"arn:aws:iam::{A}:role/deployer",
            "session": "ci",
            "actions": {
                "lambda:CreateFunction": {
                    "count": 1,
                    "first_seen": "2026-06-04T10:00:00Z",
                    "last_seen": "2026-06-04T10:00:00Z",
                }
            },
        }
    ]
    assert document["principals"] == [
        {
            "principal": f"arn:aws:iam::{A}:role/deployer",
            "type": "role",
            "actions": {"lambda:CreateFunction": {"count": 1, "last_seen": "2026-06-04T10:00:00Z"}},
        },
        {
            "principal": f"arn:aws:iam::{A}:user/alice",
            "type": "user",
            "actions": {
                "cloudwatch:DescribeAlarms": {"count": 1, "last_seen": "2026-06-02T10:00:00Z"},
                "s3:ListAllMyBuckets": {"count": 2, "last_seen": "2026-06-03T10:00:00Z"},
            },
        },
    ]
    assert document["no_iam_action"] == [
        {"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "count": 1}
    ]
    assert document["unmapped"] == [
        {"eventSource": "s3.amazonaws.com", "eventName": "NoSuchOperationEver", "count": 1}
    ]
    assert document["events"] == {"read": 7, "counted": 6, "errors": 1}
    text = capsys.readouterr().out
    assert text.index(f"arn:aws:iam::{A}:role/deployer") < text.index(f"arn:aws:iam::{A}:user/alice")
    assert "s3:ListAllMyBuckets" in text and "events: 7 read, 6 counted, 1 with errors" in text


def test_window_limits_what_is_read(logs, tmp_path):
    out = tmp_path / "u.json"
    assert main(["usage", str(logs), "--start", "2026-06-03", "--end", "2026-06-04", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["events"]["read"] == 1
    assert document["principals"][0]["actions"] == {
        "s3:ListAllMyBuckets": {"count": 1, "last_seen": "2026-06-03T10:00:00Z"}
    }


def test_default_window_is_all_time_until_tomorrow():
    now = datetime(2026, 6, 10, 15, tzinfo=timezone.utc)
    window = window_from(None, None, now=now)
    assert window.start == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert window.end == datetime(2026, 6, 11, tzinfo=timezone.utc)
    with pytest.raises(ConfigError, match="not before its end"):
        window_from("2026-06-05", "2026-06-01", now=now)


def test_bad_input_exits_2_with_one_sentence(tmp_path, capsys):
    (tmp_path / "broken.json.gz").write_bytes(b"\x1f\x8b\x08garbage")
    assert main(["usage", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "broken.json.gz" in err and "Traceback" not in err
    assert main(["usage", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["usage", str(tmp_path), "--start", "tomorrow"]) == 2


def test_skip_bad_files_lists_them(logs, tmp_path, capsys):
    write_records(logs / "bad.json", [{"eventName": "X"}])
    assert main(["usage", str(logs)]) == 2
    capsys.readouterr()
    assert main(["usage", str(logs), "--skip-bad-files", "--max-skipped-share", "0.5"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "bad.json" in err


def test_reads_all_real_records(capsys, tmp_path):
    folder = SHARED / "realdata" / "cloudtrail-records"
    if not folder.is_dir():
        pytest.skip("../shared/realdata is not present on this machine")
    out = tmp_path / "real.json"
    assert main(["usage", str(folder), "--skip-bad-records", "--json", str(out)]) == 0
    err = capsys.readouterr().err
    assert "read 4230 records from 9 files" in err
    document = json.loads(out.read_text())
    assert document["events"]["read"] > 4200 and len(document["principals"]) > 100
