"""Who behind a shared role (issue 17): usage per session identity from the one usage SQL, and its output."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from cloudtrail_factory import assumed_role, event, write_s3_layout

from ctlint.cli import main
from ctlint.model import IdentityUsageRow, Window
from ctlint.sessions import inert, session_lines, usage_by_session
from ctlint.usage.local import LocalEngine
from ctlint.usage.sql import to_duckdb, usage_queries

A = "111111111111"
SSO = "AWSReservedSSO_Admin_0123456789abcdef"
ROLE = f"arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/{SSO}"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))


def _records():
    path = "/aws-reserved/sso.amazonaws.com/"
    alice = assumed_role(A, SSO, "alice@example.com", "ASIAALICE0000000001", path=path)
    bob = assumed_role(A, SSO, "bob@example.com", "ASIABOB000000000001", path=path)
    hostile = assumed_role(A, SSO, "::warning::x\x1b[2J", "ASIAEVIL00000000001", path=path)
    return [
        event(alice, "s3.amazonaws.com", "ListBuckets", "2026-06-02T10:00:00Z"),
        event(alice, "s3.amazonaws.com", "ListBuckets", "2026-06-09T10:00:00Z"),
        event(alice, "iam.amazonaws.com", "CreateUser", "2026-06-03T10:00:00Z"),
        event(bob, "ec2.amazonaws.com", "DescribeInstances", "2026-06-04T10:00:00Z"),
        event(bob, "ec2.amazonaws.com", "RunInstances", "2026-06-05T10:00:00Z", error_code="AccessDenied"),
        event(hostile, "s3.amazonaws.com", "ListBuckets", "2026-06-06T10:00:00Z"),
    ]


def test_local_engine_reports_each_session_identity_of_a_role(tmp_path):
    write_s3_layout(tmp_path / "logs", _records())
    engine = LocalEngine([tmp_path / "logs"], cache=False)
    try:
        raw = engine.collect(WINDOW, [A])
    finally:
        engine.close()
    sessions = {s.session: dict(s.actions) for s in usage_by_session(raw.identities, ROLE)}
    assert set(sessions) == {"alice@example.com", "bob@example.com", "::warning::x\x1b[2J"}
    assert sessions["alice@example.com"]["s3:ListAllMyBuckets"].count == 2
    assert set(sessions["alice@example.com"]) == {"s3:ListAllMyBuckets", "iam:CreateUser"}
    assert set(sessions["bob@example.com"]) == {"ec2:DescribeInstances"}  # the denied call does not count


@pytest.mark.parametrize("cache", [False, True])
def test_local_engine_reads_source_identity_like_athena(tmp_path, cache):
    """sourceIdentity (set by the caller, kept across role chains) wins over the session name, locally too."""
    carol = assumed_role(A, "ci", "i-0abc", "ASIACAROL0000000001")
    carol["sessionContext"]["sourceIdentity"] = "carol"
    anonymous = assumed_role(A, "ci", "i-0abc", "ASIANONE00000000001")
    records = [
        event(carol, "s3.amazonaws.com", "ListBuckets", "2026-06-02T10:00:00Z"),
        event(carol, "s3.amazonaws.com", "ListBuckets", "2026-06-02T11:00:00Z"),
        event(anonymous, "s3.amazonaws.com", "ListBuckets", "2026-06-03T10:00:00Z"),
    ]
    write_s3_layout(tmp_path / "logs", records)
    for _ in range(2 if cache else 1):  # the second run reads the per-file cache
        engine = LocalEngine([tmp_path / "logs"], cache=cache, cache_min_bytes=0)
        try:
            raw = engine.collect(WINDOW, [A])
        finally:
            engine.close()
        counts = {(row.session, row.count) for row in raw.identities}
        assert counts == {("carol", 2), ("i-0abc", 1)}


def test_the_sql_prefers_source_identity_over_the_session_name():
    """The Athena table shape (DuckDB standing in): sourceIdentity wins when the session carries one."""
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE cloudtrail AS SELECT * FROM (VALUES
        ('e1', '2026-06-02T10:00:00Z', 's3.amazonaws.com', 'ListBuckets', NULL, '111111111111',
         {'type': 'AssumedRole', 'arn': 'arn:aws:sts::111111111111:assumed-role/ci/i-0abc', 'accesskeyid': 'ASIA1',
          'sessioncontext': {'sessionissuer': {'arn': 'arn:aws:iam::111111111111:role/ci'},
                             'sourceidentity': 'carol'}}),
        ('e2', '2026-06-03T10:00:00Z', 's3.amazonaws.com', 'ListBuckets', NULL, '111111111111',
         {'type': 'AssumedRole', 'arn': 'arn:aws:sts::111111111111:assumed-role/ci/i-0abc', 'accesskeyid': 'ASIA1',
          'sessioncontext': {'sessionissuer': {'arn': 'arn:aws:iam::111111111111:role/ci'},
                             'sourceidentity': NULL}})
        ) AS t(eventid, eventtime, eventsource, eventname, errorcode, recipientaccountid, useridentity)"""
    )
    con.execute(
        """CREATE TABLE events AS SELECT eventid, eventtime, eventsource, eventname, errorcode,
        recipientaccountid, useridentity, NULL::VARCHAR AS requestid, NULL::VARCHAR AS requestparameters,
        NULL::VARCHAR AS responseelements, recipientaccountid AS account,
        replace(substr(eventtime, 1, 10), '-', '/') AS "timestamp" FROM cloudtrail"""
    )
    (query,) = [q for q in usage_queries("events", WINDOW, [A]) if q.name == "identity_usage"]
    rows = con.execute(to_duckdb(query.text), list(query.params)).fetchall()
    assert sorted((r[1], r[2], r[5]) for r in rows) == [
        ("arn:aws:iam::111111111111:role/ci", "carol", 1),
        ("arn:aws:iam::111111111111:role/ci", "i-0abc", 1),
    ]


def test_session_identities_are_rendered_inert():
    assert inert("::error::boom") == "\\::error::boom"
    assert inert("a\x1b[31mb\u202ec\n") == "a\\x1b[31mb\\u202ec\\x0a"
    row = IdentityUsageRow(
        ROLE, "::set-env\x07", A, "s3.amazonaws.com", "ListBuckets", 1, WINDOW.start, WINDOW.start
    )
    lines = session_lines(usage_by_session([row]))
    assert lines[0].startswith("\\::set-env\\x07")
    assert not any(line.startswith("::") or "\x07" in line for line in lines)


def test_show_by_session_and_usage_json(tmp_path, capsys, monkeypatch):
    logs = tmp_path / "logs"
    write_s3_layout(logs, _records())
    snapshot = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
        "RoleDetailList": [
            {
                "RoleName": SSO,
                "RoleId": "AROAEXAMPLE",
                "Arn": ROLE,
                "Path": "/aws-reserved/sso.amazonaws.com/",
                "CreateDate": "2026-01-01T00:00:00Z",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": f"arn:aws:iam::{A}:saml-provider/AWSSSO"},
                            "Action": "sts:AssumeRoleWithSAML",
                        }
                    ],
                },
                "RolePolicyList": [],
                "AttachedManagedPolicies": [],
            }
        ],
    }
    (tmp_path / "iam.json").write_text(json.dumps(snapshot))
    (tmp_path / "ctlint.yaml").write_text(
        f'accounts:\n  - name: sso\n    id: "{A}"\n    iam: iam.json\n'
        "usage:\n  local:\n    paths: [logs]\nwindow:\n  start: 2026-06-01\n  end: 2026-07-01\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main(["show", "--account", "sso", "--role", SSO, "--by-session"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == "alice@example.com  (last 2026-06-09T10:00:00Z)"
    assert "  s3:ListAllMyBuckets       2  last 2026-06-09T10:00:00Z" in out.splitlines()
    assert not any(line.startswith("::") for line in out.splitlines())
    assert main(["usage", str(logs), "--start", "2026-06-01", "--end", "2026-07-01", "--json", "u.json"]) == 0
    sessions = json.loads(Path("u.json").read_text())["sessions"]
    assert {s["session"] for s in sessions} == {"alice@example.com", "bob@example.com", "::warning::x\x1b[2J"}
    with pytest.raises(SystemExit):
        main(["show", "--account", "sso", "--user", "x", "--by-session", "--role", SSO])
