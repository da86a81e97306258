"""Security: hostile values stay data, YAML runs nothing, ctlint writes only where told, no secret leaks.

- Principal ARNs, role session names and bucket names with quotes, `--`, `;`, newlines and Unicode go
  through the local engine end to end and are counted exactly (values reach SQL only as data).
- Config YAML: no `!!python` tag is constructed, and an alias bomb is refused quickly.
- A config whose paths point anywhere makes ctlint write nothing but the chosen reports (and its cache).
- Logs carrying session tokens, secret keys, request parameters and access key ids: no report format,
  `ctlint usage` (text and --json) or `ctlint show` repeats them; access key ids appear at most masked.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from cloudtrail_factory import (
    assume_role_event,
    assumed_role,
    event,
    iam_user,
    write_records,
    write_s3_layout,
)

from ctlint.cli import main

A = "111111111111"
HOSTILE = [
    "o'brien",
    'say"hi"',
    "x'); DROP TABLE cloudtrail; --",
    "semi;colon",
    "line\nbreak",
    "dash--dash",
    "ünïcødé-名前-🙂",
    "back\\slash",
    "%s?$1:name",
]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_hostile_names_are_counted_exactly_through_the_local_engine(capsys, tmp_path):
    records = []
    for i, name in enumerate(HOSTILE):
        user = iam_user(A, name)
        for n in range(i + 1):  # i+1 calls each, so a merge or a split shows in the counts
            records.append(
                event(
                    user,
                    "s3.amazonaws.com",
                    "CreateBucket",
                    f"2026-06-02T10:{n:02d}:00Z",
                    request_parameters={"bucketName": name},
                )
            )
        role = f"arn:aws:iam::{A}:role/r{i}"
        key = f"ASIAHOSTILE{i:09d}"
        records.append(assume_role_event(user, role, key, "2026-06-03T10:00:00Z", session_name=name))
        records.append(
            event(
                assumed_role(A, f"r{i}", name, key),
                "ec2.amazonaws.com",
                "DescribeInstances",
                "2026-06-03T10:05:00Z",
            )
        )
    write_s3_layout(tmp_path / "logs", records)
    out = tmp_path / "usage.json"
    code, text, err = run(capsys, "usage", str(tmp_path / "logs"), "--json", str(out))
    assert code == 0, err
    document = json.loads(out.read_text())
    by = {p["principal"]: p["actions"] for p in document["principals"]}
    for i, name in enumerate(HOSTILE):
        assert by[f"arn:aws:iam::{A}:user/{name}"]["s3:CreateBucket"]["count"] == i + 1
        assert by[f"arn:aws:iam::{A}:user/{name}"]["sts:AssumeRole"]["count"] == 1
        assert by[f"arn:aws:iam::{A}:role/r{i}"]["ec2:DescribeInstances"]["count"] == 1
    assert document["events"]["read"] == len(records)
    assert len(by) == 2 * len(HOSTILE)


def test_hostile_account_name_and_paths_in_the_config(capsys, tmp_path):
    folder = tmp_path / "we'ird; -- dir ü"
    logs = folder / "lo'gs"
    write_records(
        logs / "a.json",
        [event(iam_user(A, "alice"), "s3.amazonaws.com", "CreateBucket", "2026-06-02T10:00:00Z")],
    )
    (folder / "iam.json").write_text(
        json.dumps(
            {
                "UserDetailList": [
                    {
                        "UserName": "alice",
                        "Arn": f"arn:aws:iam::{A}:user/alice",
                        "UserPolicyList": [
                            {
                                "PolicyName": "p",
                                "PolicyDocument": {
                                    "Statement": {
                                        "Effect": "Allow",
                                        "Action": "s3:CreateBucket",
                                        "Resource": "*",
                                    }
                                },
                            }
                        ],
                    }
                ],
            }
        )
    )
    config = folder / "c.yaml"
    config.write_text(
        'accounts:\n  - name: "prod\'; DROP TABLE x; --"\n    id: "111111111111"\n    iam: iam.json\n'
        'usage:\n  local:\n    paths: ["lo\'gs"]\nwindow:\n  start: 2026-06-01\n  end: 2026-07-01\n'
    )
    code, out, err = run(capsys, "check", "--config", str(config), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["accounts"] == [{"id": A, "name": "prod'; DROP TABLE x; --"}]


# ---------------------------------------------------------------- YAML


@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        "!!python/name:os.system",
        '!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
    ],
)
def test_yaml_tags_construct_nothing(capsys, tmp_path, tag):
    marker = tmp_path / "pwned"
    config = tmp_path / "c.yaml"
    config.write_text(
        'accounts:\n  - name: a\n    id: "111111111111"\n    iam: x.json\nfail_on: '
        + tag.format(marker=marker)
        + "\n"
    )
    code, out, err = run(capsys, "check", "--config", str(config))
    assert code == 2 and out == "" and "Traceback" not in err
    assert (
        f"ctlint: error: {config} is not valid YAML at line 5: could not determine a constructor for the tag"
        in err
    )
    assert not marker.exists()


def test_yaml_alias_bomb_is_refused_quickly(capsys, tmp_path):
    lines = [
        'accounts:\n  - {name: a, id: "111111111111", iam: x.json}\n',
        "rules:\n  r0: &r0 {enabled: true}\n",
    ]
    lines.append('x0: &x0 ["a", "a", "a", "a", "a", "a", "a", "a", "a"]\n')
    lines += [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]\n" for i in range(1, 9)]
    config = tmp_path / "c.yaml"
    config.write_text("".join(lines))
    started = time.process_time()  # the work done, not the wall clock of a loaded machine
    code, out, err = run(capsys, "check", "--config", str(config))
    assert time.process_time() - started < 5
    assert code == 2 and out == ""
    assert err.strip() == (
        f"ctlint: error: {config}: the config expands to more than 100,000 values (YAML aliases nested in aliases?)."
    )


# ---------------------------------------------------------------- writes only where told


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_config_paths_cannot_make_ctlint_write_elsewhere(capsys, tmp_path, monkeypatch):
    """Paths pointing up, absolute, at files and through symlinks: only the --json/--sarif/... files appear."""
    world = tmp_path / "world"
    logs = world / "elsewhere" / "logs"
    write_records(
        logs / "a.json.gz",
        [event(iam_user(A, "alice"), "s3.amazonaws.com", "CreateBucket", "2026-06-02T10:00:00Z")],
    )
    (world / "elsewhere" / "iam.json").write_text(
        json.dumps(
            {
                "UserDetailList": [
                    {"UserName": "alice", "Arn": f"arn:aws:iam::{A}:user/alice", "UserPolicyList": []}
                ]
            }
        )
    )
    project = world / "project"
    project.mkdir()
    (project / "link").symlink_to(world / "elsewhere")
    config = project / "ctlint.yaml"
    config.write_text(
        f'accounts:\n  - name: prod\n    id: "{A}"\n    iam: link/../project/link/iam.json\n'
        f"usage:\n  local:\n    paths: [../elsewhere/logs, {json.dumps(str(logs))}, link/logs]\n    cache: true\n"
        "rule_files: []\nwindow:\n  start: 2026-06-01\n  end: 2026-07-01\n"
    )
    out = tmp_path / "out"
    cache = tmp_path / "cache"
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(cache))
    monkeypatch.chdir(project)
    before = _tree(world)
    code, _, err = run(
        capsys,
        "check",
        "--config",
        str(config),
        "--output",
        str(out / "r.txt"),
        *(a for fmt in ("json", "sarif", "junit", "markdown") for a in (f"--{fmt}", str(out / f"r.{fmt}"))),
    )
    assert code in (0, 1), err
    assert _tree(world) == before  # nothing written beside the config, the snapshot or the logs
    assert sorted(p.name for p in out.iterdir()) == ["r.json", "r.junit", "r.markdown", "r.sarif", "r.txt"]
    assert not cache.exists() or all(p.suffix == ".duckdb" for p in cache.iterdir())


def test_no_config_key_names_an_output_path():
    schema = json.loads(
        (Path(__file__).resolve().parents[1] / "ctlint" / "schemas" / "config.schema.json").read_text()
    )
    keys: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    suspicious = {k for k in keys if any(w in k for w in ("output", "report", "write", "dir", "cache_"))}
    # athena.output_location / output_s3_bucket are S3 URIs for Athena's own results, not local paths.
    assert suspicious == {"output_location", "output_s3_bucket"}


# ---------------------------------------------------------------- secrets


SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETSECRET"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENSECRETXYZ"
PARAM_SECRET = "hunter2-password-in-request"
USER_KEY = "AKIAUSERLONGTERMWXYZ"
SESSION_KEY = "ASIASESSIONTEMPWXYZ0"


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    alice = iam_user(A, "alice", key=USER_KEY)
    role = f"arn:aws:iam::{A}:role/admin"
    assume = assume_role_event(alice, role, SESSION_KEY, "2026-06-02T09:00:00Z")
    assume["responseElements"]["credentials"].update(sessionToken=SESSION_TOKEN, secretAccessKey=SECRET_KEY)
    records = [
        event(
            alice,
            "s3.amazonaws.com",
            "CreateBucket",
            "2026-06-02T10:00:00Z",
            request_parameters={"bucketName": "b", "password": PARAM_SECRET},
        ),
        event(
            alice,
            "secretsmanager.amazonaws.com",
            "PutSecretValue",
            "2026-06-02T10:01:00Z",
            request_parameters={"secretString": PARAM_SECRET},
            response_elements={"credentials": {"secretAccessKey": SECRET_KEY, "sessionToken": SESSION_TOKEN}},
        ),
        event(
            iam_user(A, "bob", key=USER_KEY),
            "iam.amazonaws.com",
            "CreateAccessKey",
            "2026-06-02T10:02:00Z",
            response_elements={"accessKey": {"accessKeyId": USER_KEY, "secretAccessKey": SECRET_KEY}},
        ),
        assume,
        event(
            assumed_role(A, "admin", "alice", SESSION_KEY),
            "iam.amazonaws.com",
            "ListUsers",
            "2026-06-02T10:03:00Z",
        ),
    ]
    for rec in records:
        rec["userIdentity"]["sessionContext"] = {
            **rec["userIdentity"].get("sessionContext", {}),
            "webIdFederationData": {"token": SESSION_TOKEN},
        }
    write_s3_layout(tmp_path / "logs", records)
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}
        ]
    }
    inline = {
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "sts:AssumeRole", "iam:CreateAccessKey"], "Resource": "*"}
        ]
    }
    (tmp_path / "iam.json").write_text(
        json.dumps(
            {
                "UserDetailList": [
                    {
                        "UserName": n,
                        "Arn": f"arn:aws:iam::{A}:user/{n}",
                        "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": inline}],
                    }
                    for n in ("alice", "bob")
                ],
                "RoleDetailList": [
                    {
                        "RoleName": "admin",
                        "Arn": f"arn:aws:iam::{A}:role/admin",
                        "AssumeRolePolicyDocument": trust,
                        "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": inline}],
                    }
                ],
            }
        )
    )
    (tmp_path / "ctlint.yaml").write_text(
        f'accounts:\n  - name: prod\n    id: "{A}"\n    iam: iam.json\nusage:\n  local:\n    paths: [logs]\n'
        "window:\n  start: 2026-06-01\n  end: 2026-07-01\n"
    )
    return tmp_path


def _assert_clean(text: str, where: str) -> None:
    for secret in (
        SECRET_KEY,
        SESSION_TOKEN,
        PARAM_SECRET,
        USER_KEY,
        SESSION_KEY,
        "secretAccessKey",
        "sessionToken",
    ):
        assert secret not in text, f"{secret} leaked into {where}"
    # A masked key id (ASIA…WXYZ) would be fine; an unmasked one never.
    for key in (USER_KEY, SESSION_KEY):
        assert key[4:-4] not in text, f"the middle of {key} leaked into {where}"


def test_no_report_repeats_a_secret_the_logs_hold(capsys, leaky):
    config = str(leaky / "ctlint.yaml")
    outputs = {fmt: leaky / f"r.{fmt}" for fmt in ("json", "sarif", "junit", "markdown")}
    code, out, err = run(
        capsys,
        "check",
        "--config",
        config,
        "--format",
        "text",
        *(a for fmt, p in outputs.items() for a in (f"--{fmt}", str(p))),
    )
    assert code == 1, err
    _assert_clean(out + err, "the text report and stderr")
    for fmt, path in outputs.items():
        _assert_clean(path.read_text(), f"the {fmt} report")
    assert "arn:aws:iam::111111111111:user/alice" in outputs["json"].read_text()  # the reports are not empty
    usage_json = leaky / "usage.json"
    code, out, err = run(capsys, "usage", str(leaky / "logs"), "--json", str(usage_json))
    assert code == 0
    _assert_clean(out + err + usage_json.read_text(), "ctlint usage")
    for argv in (
        ["--list", "users"],
        ["--list", "roles"],
        ["--user", "alice"],
        ["--user", "bob"],
        ["--role", "admin"],
        ["--user", "alice", "--destrole", "admin"],
    ):
        code, out, err = run(capsys, "show", "--config", config, "--account", "prod", "--no-color", *argv)
        assert code == 0, (argv, err)
        _assert_clean(out + err, f"ctlint show {' '.join(argv)}")
    assert os.path.getsize(outputs["sarif"]) > 0
