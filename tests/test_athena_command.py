"""`ctlint athena setup|teardown` end to end through the CLI, against moto."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from test_athena_engine import REGION, aws, executions  # noqa: F401

from ctlint.cli import main


def write_config(tmp_path: Path, athena: str) -> Path:
    (tmp_path / "iam.json").write_text(
        '{"UserDetailList": [], "RoleDetailList": [], "GroupDetailList": [], "Policies": []}'
    )
    path = tmp_path / "config.yaml"
    path.write_text(
        f"{athena}accounts:\n  - name: demo\n    id: '111111111111'\n    iam: iam.json\n", encoding="utf-8"
    )
    return path


def test_setup_then_teardown_through_the_cli(
    aws: boto3.Session,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(
        tmp_path,
        f"athena:\n  s3_bucket: logs-bucket\n  path: ''\n  region: {REGION}\n"
        "  output_s3_bucket: s3://results-bucket/ctlint\n",
    )
    assert main(["athena", "setup", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert "ctlint: athena: created Athena database ctlint" in err
    assert "s3://logs-bucket/AWSLogs/ (projection: 1 accounts" in err  # empty path: no double slash
    assert "s3://logs-bucket//" not in executions()[-1].query
    # moto's Athena runs no DDL, so its Glue catalog stays empty: teardown finds nothing to drop.
    assert main(["athena", "teardown", "-c", str(config)]) == 0
    assert "nothing to do" in capsys.readouterr().err
    assert [e.query.split(" ")[0] for e in executions()] == ["CREATE", "CREATE"]


def test_config_without_athena_block_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "logs").mkdir()
    config = write_config(tmp_path, "usage:\n  source: local\n  local:\n    paths: [logs]\n")
    assert main(["athena", "setup", "-c", str(config)]) == 2
    assert "has no 'athena' block" in capsys.readouterr().err


def test_bad_athena_value_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, 'athena:\n  s3_bucket: logs-bucket\n  path: "x\'; --"\n')
    assert main(["athena", "setup", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert "athena.path" in err and "Traceback" not in err


def test_readme_policy_is_the_documented_one_and_names_real_actions():
    import json as _json
    from pathlib import Path as _Path

    from ctlint.catalog import Catalog

    root = _Path(__file__).resolve().parents[1]

    def policy(markdown: str) -> dict:
        return _json.loads(markdown.split("```json", 1)[1].split("```", 1)[0])

    readme = policy(
        (root / "README.md").read_text(encoding="utf-8").split("### At scale, on Amazon Athena", 1)[1]
    )
    documented = policy(
        (root / "docs" / "athena.md").read_text(encoding="utf-8").split("## The IAM permissions", 1)[1]
    )
    assert readme == documented
    catalog = Catalog.load()
    actions = {a for statement in readme["Statement"] for a in statement["Action"]}
    assert actions and all(catalog.canonical(a) == a for a in actions), actions
