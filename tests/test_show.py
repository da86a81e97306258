"""`ctlint show`: the pure diff (ctlint.show) and the command on the offline demo (CloudTracker's story)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ctlint.catalog import Catalog
from ctlint.cli import main
from ctlint.model import SessionUsageRow
from ctlint.show import (
    DiffLine,
    ShowFilter,
    actor_lines,
    diff_actions,
    filter_lines,
    is_benign,
    render,
    session_actions,
)

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo" / "ctlint.yaml"


@dataclass(frozen=True)
class _Info:
    access_levels: tuple[str, ...]


class FakeCatalog:
    LEVELS = {
        "s3:ListAllMyBuckets": ("List",),
        "s3:GetObject": ("Read",),
        "s3:CreateBucket": ("Write",),
        "s3:TagResource": ("Tagging", "Write"),
        "iam:CreateUser": ("Write",),
        "iam:PassRole": ("Write",),
        "ec2:DescribeInstances": ("List",),
    }
    NOT_RECORDED = {"s3:GetObject", "iam:PassRole"}

    def info(self, action):
        levels = self.LEVELS.get(action)
        return _Info(levels) if levels else None

    def is_observable(self, action, data_events):
        if action == "s3:GetObject" and "s3" in data_events:
            return True
        return action in self.LEVELS and action not in self.NOT_RECORDED


CAT = FakeCatalog()


def symbols(lines):
    return [(line.symbol, line.name) for line in lines]


# ---------------------------------------------------------------- pure diff


def test_diff_gives_each_action_one_symbol_sorted_case_insensitively():
    granted = {"s3:ListAllMyBuckets", "s3:GetObject", "s3:CreateBucket", "iam:PassRole"}
    used = {"s3:CreateBucket", "iam:CreateUser", "ec2:DescribeInstances"}
    assert symbols(diff_actions(granted, used, CAT)) == [
        ("+", "ec2:DescribeInstances"),
        ("+", "iam:CreateUser"),
        ("?", "iam:PassRole"),
        (" ", "s3:CreateBucket"),
        ("?", "s3:GetObject"),
        ("-", "s3:ListAllMyBuckets"),
    ]


def test_data_events_make_data_actions_observable():
    assert symbols(diff_actions({"s3:GetObject"}, set(), CAT, {"s3"})) == [("-", "s3:GetObject")]


def test_used_wins_over_unobservable():
    # A data action seen used (the trail logged it after all) is used, never "?".
    assert symbols(diff_actions({"s3:GetObject"}, {"s3:GetObject"}, CAT)) == [(" ", "s3:GetObject")]


def test_benign_is_by_access_level_not_name():
    assert is_benign("s3:ListAllMyBuckets", CAT)
    assert is_benign("s3:GetObject", CAT)
    assert not is_benign("s3:CreateBucket", CAT)
    assert not is_benign("s3:TagResource", CAT)  # Tagging+Write
    assert not is_benign("nosuch:Action", CAT)
    real = Catalog.load()
    assert is_benign("cloudwatch:DescribeAlarms", real)
    assert is_benign("s3:GetObject", real)
    # Name prefixes lie: GetFederationToken issues credentials; ListBucket is List.
    assert not is_benign("sts:GetFederationToken", real)
    assert not is_benign("iam:CreateUser", real)


LINES = (
    DiffLine(" ", "a:Used"),
    DiffLine("+", "b:Extra"),
    DiffLine("-", "c:Unused"),
    DiffLine("?", "d:Unknown"),
    DiffLine("-", "e:ListThings", benign=True),
    DiffLine(" ", "f:GetThing", benign=True),
)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (ShowFilter(), ["a:Used", "b:Extra", "c:Unused", "d:Unknown", "e:ListThings", "f:GetThing"]),
        (ShowFilter(show_used=True), ["a:Used", "b:Extra", "f:GetThing"]),
        (ShowFilter(show_used=True, unknown_explicit=True), ["a:Used", "b:Extra", "d:Unknown", "f:GetThing"]),
        (ShowFilter(show_unknown=False), ["a:Used", "b:Extra", "c:Unused", "e:ListThings", "f:GetThing"]),
        (ShowFilter(show_benign=False), ["a:Used", "b:Extra", "c:Unused", "d:Unknown"]),
        (ShowFilter(show_used=True, show_benign=False), ["a:Used", "b:Extra"]),
    ],
)
def test_filters_match_cloudtracker(flt, expected):
    assert [line.name for line in filter_lines(LINES, flt)] == expected


def test_actor_lines_and_render():
    lines = actor_lines({"bob": False, "alice": True, "Charlie": True})
    assert render(lines) == "  alice\n- bob\n  Charlie\n"
    coloured = render(lines, colour=True)
    assert "\033[31m- bob\033[0m" in coloured
    assert "  alice\n" in coloured  # used lines stay plain
    assert render(()) == ""


def _session(source, role, source_name, event_name):
    moment = datetime(2026, 6, 1, tzinfo=timezone.utc)
    return SessionUsageRow(source, role, "111111111111", source_name, event_name, 1, moment, moment)


def test_session_actions_select_source_and_role_and_map_events():
    alice, bob = "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/bob"
    admin = "arn:aws:iam::111111111111:role/admin"
    other = "arn:aws:iam::222222222222:role/admin"  # same name, other account: a different role
    rows = [
        _session(alice, admin, "s3.amazonaws.com", "CreateBucket"),
        _session(alice, admin, "monitoring.amazonaws.com", "DescribeAlarms"),
        _session(alice, admin, "sts.amazonaws.com", "GetCallerIdentity"),  # needs no IAM action
        _session(alice, other, "iam.amazonaws.com", "CreateUser"),
        _session(bob, admin, "iam.amazonaws.com", "DeleteUser"),
    ]
    assert session_actions(rows, alice, admin) == {"s3:CreateBucket", "cloudwatch:DescribeAlarms"}
    assert session_actions(rows, alice, other) == {"iam:CreateUser"}
    assert session_actions(rows, bob, other) == frozenset()


# ---------------------------------------------------------------- the command on the demo


def show(capsys, *args):
    code = main(["show", "--config", str(DEMO), "--account", "demo", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_users_and_roles(capsys):
    assert show(capsys, "--list", "users")[:2] == (0, "  alice\n- bob\n  charlie\n")
    code, out, _ = show(capsys, "--list", "roles")
    lines = out.splitlines()
    assert "  admin" in lines
    assert "- auditor" in lines
    assert "  nightly-report" in lines  # RoleLastUsed in the window counts as activity


def test_user_diff_has_only_lines_on_stdout(capsys):
    code, out, err = show(capsys, "--user", "alice")
    assert code == 0
    assert err.splitlines()[0] == "Getting info on alice, user created 2017-09-02T18:02:14Z"
    assert out == (
        "  cloudwatch:DescribeAlarmHistory\n"
        "  cloudwatch:DescribeAlarms\n"
        "- cloudwatch:DescribeAlarmsForMetric\n"
        "- cloudwatch:GetDashboard\n"
        "? cloudwatch:GetMetricData\n"
        "+ s3:CreateBucket\n"
        "- s3:ListAllMyBuckets\n"
        "  sts:AssumeRole\n"
    )
    assert "\033[" not in out  # not a terminal: no colour


def test_show_used_and_benign_flags(capsys):
    assert show(capsys, "--user", "alice", "--show-used")[1] == (
        "  cloudwatch:DescribeAlarmHistory\n  cloudwatch:DescribeAlarms\n+ s3:CreateBucket\n  sts:AssumeRole\n"
    )
    out = show(capsys, "--user", "alice", "--ignore-benign")[1]
    assert out == "+ s3:CreateBucket\n  sts:AssumeRole\n"
    assert "? cloudwatch:GetMetricData" not in show(capsys, "--user", "alice", "--ignore-unknown")[1]
    out = show(capsys, "--user", "alice", "--show-used", "--show-unknown")[1]
    assert "? cloudwatch:GetMetricData\n" in out and "- " not in out


def test_role_and_destrole_views(capsys):
    code, out, err = show(capsys, "--role", "admin", "--show-used")
    assert (code, out) == (0, "  iam:CreateUser\n  s3:CreateBucket\n")
    assert "Getting info for role admin" in err
    code, out, err = show(capsys, "--user", "alice", "--destrole", "admin", "--show-used")
    assert out == "  iam:CreateUser\n  s3:CreateBucket\n"
    assert "Getting info for AssumeRole into admin" in err
    assert show(capsys, "--user", "charlie", "--destrole", "admin", "--show-used")[1] == "  s3:CreateBucket\n"
    # Full diff: what charlie did not need as admin is visible.
    out = show(capsys, "--user", "charlie", "--destrole", "admin")[1]
    assert "- iam:CreateUser\n" in out and "  s3:CreateBucket\n" in out


def test_destaccount_uses_the_role_of_that_account(capsys):
    code, out, err = show(
        capsys, "--user", "charlie", "--destaccount", "backup", "--destrole", "admin", "--show-used"
    )
    assert (code, out) == (0, "  s3:CreateBucket\n")
    assert "arn:aws:iam::222222222222:role/admin" in err
    # By id as well; the unused part comes from the backup role's grants, not the demo admin's.
    out = show(capsys, "--user", "charlie", "--destaccount", "222222222222", "--destrole", "admin")[1]
    assert out == "- backup:StartBackupJob\n  s3:CreateBucket\n- s3:PutBucketVersioning\n"


def test_destrole_never_assumed_says_so(capsys):
    code, out, err = show(capsys, "--user", "alice", "--destaccount", "backup", "--destrole", "admin")
    assert code == 0
    assert "alice did not assume admin" in err
    assert "alice cannot assume arn:aws:iam::222222222222:role/admin: its policies or" in err
    assert out.startswith("- backup:StartBackupJob\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "dave"], "has no user named 'dave'; its users: alice, bob, charlie."),
        (["--role", "alice"], "has no role named 'alice'; its roles: admin, annual-audit"),
        (["--user", "alice", "--destaccount", "backup", "--destrole", "auditor"], "its roles: admin."),
        (["--user", "alice", "--destaccount", "prod", "--destrole", "admin"], "no account named 'prod'"),
        (["--list", "users", "--destrole", "admin"], "apply to --user or --role"),
        (["--user", "alice", "--destaccount", "backup"], "--destaccount needs --destrole"),
    ],
)
def test_bad_names_exit_2_listing_what_exists(capsys, args, message):
    code, out, err = show(capsys, *args)
    assert code == 2
    assert out == ""
    assert message in err


def test_unknown_account_exits_2(capsys):
    code = main(["show", "--config", str(DEMO), "--account", "nope", "--list", "users"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no account named 'nope'; the config has: demo (111111111111), backup (222222222222)" in err


def test_target_is_required_and_exclusive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["show", "--config", str(DEMO), "--account", "demo", "--user", "alice", "--role", "admin"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["show", "--config", str(DEMO), "--account", "demo"])


def test_cloudtracker_config_yaml_works_unchanged(tmp_path, capsys, monkeypatch):
    """CloudTracker's config.yaml shape (found by default, id unquoted), pointed at local logs."""
    demo_dir = DEMO.parent
    (tmp_path / "config.yaml").write_text(
        "accounts:\n"
        "  - name: demo\n"
        "    id: 111111111111\n"
        f"    iam: {demo_dir / 'iam' / 'demo.json'}\n"
        "usage:\n"
        f"  local: {{paths: [{demo_dir / 'logs'}]}}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "show",
            "--account",
            "111111111111",
            "--list",
            "users",
            "--start",
            "2026-06-01",
            "--end",
            "2026-11-01",
        ]
    )
    out = capsys.readouterr().out
    assert (code, out) == (0, "  alice\n- bob\n  charlie\n")


def test_colour_only_on_a_terminal_and_not_with_no_color(capsys, monkeypatch):
    import sys

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    out = show(capsys, "--user", "alice")[1]
    assert "\033[31m- cloudwatch:GetDashboard\033[0m\n" in out
    assert "\033[32m+ s3:CreateBucket\033[0m\n" in out
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert "\033[" not in show(capsys, "--user", "alice", "--no-color")[1]


def test_docs_show_the_real_output(capsys, monkeypatch):
    """Every `$ ctlint show ...` block in docs/show.md is what the command prints (stderr, then stdout)."""
    import shlex

    root = DEMO.parents[2]
    monkeypatch.chdir(root)
    blocks = [
        b
        for b in (root / "docs" / "show.md").read_text(encoding="utf-8").split("```")
        if b.startswith("\n$ ")
    ]
    assert len(blocks) >= 10
    for block in blocks:
        command, *expected = block.strip("\n").split("\n")
        argv = shlex.split(command.removeprefix("$ ctlint "))
        code = main(argv)
        out, err = capsys.readouterr()
        assert (err + out).splitlines() == expected, command
        assert code == (2 if "dave" in command else 0)


def test_readme_show_commands_print_what_the_readme_says(capsys, monkeypatch):
    """The README's `ctlint show` excerpt: several commands in one block, each followed by its output."""
    import re
    import shlex

    root = DEMO.parents[2]
    monkeypatch.chdir(root)
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Following users into roles", 1)[1].split("```", 2)[1]
    runs = [r for r in re.split(r"^\$ ctlint ", block, flags=re.M) if r.strip()]
    assert len(runs) >= 4
    for run in runs:
        command, *expected = run.strip("\n").split("\n")
        assert main(shlex.split(command)) == 0
        out, err = capsys.readouterr()
        assert (err + out).splitlines() == expected, command
