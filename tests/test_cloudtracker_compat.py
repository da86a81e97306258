"""CloudTracker compatibility as a promise: one test per step of CloudTracker's README.

The config is CloudTracker's README config verbatim (`s3_bucket: my_log_bucket`, `path: my_prefix`, an
unquoted id, `iam: account-data/demo_iam.json`), plus one added line that points at local logs. Every
command is the README's own, with `cloudtracker` replaced by `ctlint` and no subcommand added.
"""

from __future__ import annotations

import re
import shlex
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cloudtrail_factory import event, iam_user, write_s3_layout

from ctlint.cli import main
from ctlint.compat import route_cloudtracker
from ctlint.config import load_config
from ctlint.usage.athena import AthenaSettings
from ctlint.usage.athena_ddl import TrailLocation

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"
A = "111111111111"

# CloudTracker README, "Step 3: Configure CloudTracker" (verbatim).
README_CONFIG = """athena:
  s3_bucket: my_log_bucket
  path: my_prefix
accounts:
  - name: demo
    id: 111111111111
    iam: account-data/demo_iam.json
"""
README_ORG_ATHENA = """athena:
  s3_bucket: my_log_bucket
  path: my_prefix
  org_id: o-myid123
"""
LOCAL_LINE = "usage: {local: {paths: [logs]}}\n"  # the one added line
# "Working with multiple accounts" needs the second account's entry (CloudTracker's config.yaml.demo shape).
BACKUP_ACCOUNT = "  - name: backup\n    id: 222222222222\n    iam: account-data/backup_iam.json\n"


@pytest.fixture
def cloudtracker_dir(tmp_path, monkeypatch):
    """A folder set up as CloudTracker's README says: account-data/, config.yaml, and local logs."""
    (tmp_path / "account-data").mkdir()
    shutil.copy(DEMO / "iam" / "demo.json", tmp_path / "account-data" / "demo_iam.json")  # Step 2
    shutil.copy(DEMO / "iam" / "backup.json", tmp_path / "account-data" / "backup_iam.json")
    shutil.copytree(DEMO / "logs", tmp_path / "logs")
    # Recent activity, so commands without --start (CloudTracker's and ctlint's default windows end now) see
    # alice and charlie active and bob not, as in the README.
    recent = (datetime.now(timezone.utc) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_s3_layout(
        tmp_path / "logs" / "recent",
        [
            event(iam_user(A, "alice"), "monitoring.amazonaws.com", "DescribeAlarms", recent),
            event(iam_user(A, "charlie"), "s3.amazonaws.com", "ListBuckets", recent),
        ],
    )
    (tmp_path / "config.yaml").write_text(README_CONFIG + BACKUP_ACCOUNT + LOCAL_LINE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cloudtracker(capsys, command: str) -> tuple[int, str, str]:
    """Run a README command line (`cloudtracker ...`) as `ctlint ...`."""
    argv = shlex.split(command)
    assert argv[0] == "cloudtracker"
    code = main(argv[1:])
    out, err = capsys.readouterr()
    return code, out, err


def test_step3_config_verbatim_loads_with_legacy_bucket_name(tmp_path):
    (tmp_path / "account-data").mkdir()
    shutil.copy(DEMO / "iam" / "demo.json", tmp_path / "account-data" / "demo_iam.json")
    (tmp_path / "config.yaml").write_text(README_CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "config.yaml")
    assert config.usage_source == "athena" and config.accounts[0].id == A
    settings = AthenaSettings.from_mapping(config.athena, where="config.yaml: athena")
    # "This assumes your CloudTrail logs are at s3://my_log_bucket/my_prefix/AWSLogs/111111111111/CloudTrail/"
    assert settings.location.base == "s3://my_log_bucket/my_prefix/AWSLogs/"
    assert settings.location.template.startswith(
        "s3://my_log_bucket/my_prefix/AWSLogs/${account}/CloudTrail/"
    )


def test_step3_empty_prefix():
    """ "Set my_prefix to '' if you have no prefix.\""""
    settings = AthenaSettings.from_mapping({"s3_bucket": "my_log_bucket", "path": ""}, where="athena")
    assert settings.location.base == "s3://my_log_bucket/AWSLogs/"


def test_step3_organisation_trail_puts_org_id_in_the_location(tmp_path):
    (tmp_path / "account-data").mkdir()
    shutil.copy(DEMO / "iam" / "demo.json", tmp_path / "account-data" / "demo_iam.json")
    (tmp_path / "config.yaml").write_text(
        README_ORG_ATHENA + README_CONFIG.split("\n", 3)[3], encoding="utf-8"
    )
    config = load_config(tmp_path / "config.yaml")
    settings = AthenaSettings.from_mapping(config.athena, where="config.yaml: athena")
    assert settings.location.base == "s3://my_log_bucket/my_prefix/AWSLogs/o-myid123/"
    assert settings.location.template == (
        "s3://my_log_bucket/my_prefix/AWSLogs/o-myid123/${account}/CloudTrail/${region}/${timestamp}"
    )


@pytest.mark.parametrize("bad", ["my bucket", "b'; DROP", "ab", "a..b", "x/y", "MY_BUCKET\nx"])
def test_legacy_names_still_refuse_what_no_bucket_can_be_called(bad):
    from ctlint.errors import ConfigError

    with pytest.raises(ConfigError, match="is not a valid S3 bucket name"):
        AthenaSettings.from_mapping({"s3_bucket": bad}, where="athena")


def test_legacy_bucket_names_are_kept_as_written():
    assert TrailLocation("My_Old.Bucket-1", "", None).base == "s3://My_Old.Bucket-1/AWSLogs/"


def test_step4_list_users_without_a_subcommand_runs_show_with_a_hint(cloudtracker_dir, capsys):
    code, out, err = cloudtracker(capsys, "cloudtracker --account demo --list users")
    assert (code, out) == (0, "  alice\n- bob\n  charlie\n"), err
    assert "ctlint: hint: CloudTracker's command line is `ctlint show ...` here" in err


def test_listing_users_and_roles_since_2018(cloudtracker_dir, capsys):
    code, out, _ = cloudtracker(capsys, "cloudtracker --account demo --list users --start 2018-01-01")
    assert (code, out) == (0, "  alice\n- bob\n  charlie\n")
    code, out, _ = cloudtracker(capsys, "cloudtracker --account demo --list roles --start 2018-01-01")
    assert code == 0 and "  admin" in out.splitlines()


def _diff_lines(out: str) -> list[str]:
    lines = out.splitlines()
    assert lines and all(re.fullmatch(r"[ ?+-] [a-z0-9-]+:[A-Za-z0-9]+", line) for line in lines), out
    return lines


def test_listing_actions_of_alice(cloudtracker_dir, capsys):
    code, out, err = cloudtracker(capsys, "cloudtracker --account demo --user alice")
    assert code == 0 and "Getting info on alice, user created 2017-09-02T18:02:14Z" in err
    lines = _diff_lines(out)
    assert "  cloudwatch:DescribeAlarms" in lines and "- cloudwatch:GetDashboard" in lines
    assert "? cloudwatch:GetMetricData" in lines


def test_listing_only_used_actions(cloudtracker_dir, capsys):
    code, out, _ = cloudtracker(
        capsys, "cloudtracker --account demo --user alice --show-used --start 2018-01-01"
    )
    assert (code, out) == (
        0,
        "  cloudwatch:DescribeAlarmHistory\n  cloudwatch:DescribeAlarms\n+ s3:CreateBucket\n  sts:AssumeRole\n",
    )
    code, out, err = cloudtracker(
        capsys, "cloudtracker --account demo --role admin --show-used --start 2018-01-01"
    )
    assert (code, out) == (
        0,
        "  iam:CreateUser\n  s3:CreateBucket\n",
    ) and "Getting info for role admin" in err


def test_following_users_into_roles(cloudtracker_dir, capsys):
    code, out, err = cloudtracker(
        capsys, "cloudtracker --account demo --user alice --destrole admin --show-used --start 2018-01-01"
    )
    assert (code, out) == (0, "  iam:CreateUser\n  s3:CreateBucket\n")
    assert "Getting info for AssumeRole into admin" in err
    code, out, _ = cloudtracker(
        capsys, "cloudtracker --account demo --user charlie --destrole admin --show-used --start 2018-01-01"
    )
    assert (code, out) == (0, "  s3:CreateBucket\n")


def test_working_with_multiple_accounts(cloudtracker_dir, capsys):
    code, out, _ = cloudtracker(
        capsys,
        "cloudtracker --account demo --user charlie --destaccount backup --destrole admin --show-used "
        "--start 2018-01-01",
    )
    assert (code, out) == (0, "  s3:CreateBucket\n")


def test_cloudtracker_flags_are_accepted_with_a_note(cloudtracker_dir, capsys):
    code, out, err = cloudtracker(
        capsys,
        "cloudtracker --account demo --list users --iam ./data/get-account-authorization-details.json "
        "--skip-setup --no-color --config config.yaml",
    )
    assert (code, out) == (0, "  alice\n- bob\n  charlie\n"), err
    assert "ctlint: note: --iam ./data/get-account-authorization-details.json is ignored" in err
    assert "ctlint: note: --skip-setup means nothing here" in err


def test_routing_leaves_ctlint_command_lines_alone():
    assert route_cloudtracker(["check", "--account", "x"]) == ["check", "--account", "x"]
    assert route_cloudtracker(["--version"]) == ["--version"]
    assert route_cloudtracker(["--config", "c.yaml", "check"]) == ["--config", "c.yaml", "check"]
    assert route_cloudtracker(["--list=users", "--account=demo"])[0] == "show"
