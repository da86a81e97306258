from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from ctlint.config import load_config, resolve_window
from ctlint.errors import ConfigError

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def write(tmp_path: Path, text: str, snapshot: bool = True) -> Path:
    if snapshot:
        (tmp_path / "iam").mkdir(exist_ok=True)
        (tmp_path / "iam" / "demo.json").write_text("{}")
    path = tmp_path / "ctlint.yaml"
    path.write_text(text)
    return path


BASE = """
accounts:
  - name: demo
    id: "111111111111"
    iam: iam/demo.json
usage:
  local:
    paths: [logs]
"""


def test_minimal_config_resolves_paths_relative_to_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir("/")
    config = load_config(write(tmp_path, BASE))
    assert config.accounts[0].iam == tmp_path.resolve() / "iam" / "demo.json"
    assert config.local_paths == (tmp_path.resolve() / "logs",)
    assert config.usage_source == "local"
    assert config.lookback_days == 90


def test_cloudtracker_config_loads_unchanged_and_selects_athena(tmp_path):
    text = """
athena:
  s3_bucket: my_log_bucket
  path: my_prefix
accounts:
  - name: demo
    id: 111111111111
    iam: iam/demo.json
"""
    config = load_config(write(tmp_path, text))
    assert config.usage_source == "athena"
    assert config.athena == {"s3_bucket": "my_log_bucket", "path": "my_prefix"}
    assert config.accounts[0].id == "111111111111"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE.replace('"111111111111"', '"12"'), "accounts[0].id: '12' is not a 12-digit account id"),
        (BASE + "acounts: []\n", "unknown key 'acounts' (did you mean 'accounts'?)"),
        (BASE.replace("iam/demo.json", "iam/missing.json"), "accounts[0].iam: the IAM snapshot"),
        ("usage: {local: {paths: [x]}}\n", "(top level): 'accounts' is required"),
        (BASE + "window: {start: 2026-06-01, end: 2026-05-01}\n", "window.start 2026-06-01 is not before"),
        (BASE + "window: {start: 2026-13-01}\n", "window.start: '2026-13-01' is not a date"),
        (BASE + "allowlist:\n  - principal: x\n", "allowlist[0]: 'reason' is required"),
        (BASE + "allowlist:\n  - principal: x\n    reason: '  '\n", "a reason is required"),
        (BASE + "usage2: 1\n", "unknown key 'usage2' (did you mean 'usage'?)"),
        (BASE + "fail_on: sometimes\n", "fail_on: 'sometimes' is not one of"),
        (BASE + "accounts: []\n", "duplicate key 'accounts'"),
        ("accounts: [\n", "is not valid YAML at line"),
        (
            "elasticsearch: {host: localhost}\naccounts: []\n",
            "Elasticsearch backend, which ctlint does not support",
        ),
    ],
)
def test_bad_configs_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert message in str(error.value)
    assert str(tmp_path) in str(error.value)


def test_duplicate_account_names_and_ids_are_rejected(tmp_path):
    text = BASE.replace(
        "usage:",
        "  - name: demo\n    id: '222222222222'\n    iam: iam/demo.json\nusage:",
    )
    with pytest.raises(ConfigError, match=r"accounts\[1\]\.name: 'demo' is already used by accounts\[0\]"):
        load_config(write(tmp_path, text))
    text = BASE.replace(
        "usage:",
        "  - name: other\n    id: '111111111111'\n    iam: iam/demo.json\nusage:",
    )
    with pytest.raises(ConfigError, match=r"accounts\[1\]\.id: 111111111111 is already used"):
        load_config(write(tmp_path, text))


def test_integer_account_id_that_lost_its_zeros_is_explained(tmp_path):
    with pytest.raises(ConfigError, match="quote it in YAML"):
        load_config(write(tmp_path, BASE.replace('"111111111111"', "12345")))


def test_yaml_is_loaded_safely(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, BASE + "x: !!python/object/apply:os.system ['true']\n"))


def test_window_defaults_to_lookback_ending_now(tmp_path):
    config = load_config(write(tmp_path, BASE + "window: {lookback: 30d}\n"))
    window = resolve_window(config, now=NOW)
    assert window.end == NOW
    assert (window.end - window.start).days == 30


def test_cli_dates_override_the_config(tmp_path):
    config = load_config(write(tmp_path, BASE + "window: {start: 2026-01-01, end: 2026-02-01}\n"))
    window = resolve_window(config, "2026-03-01", "2026-04-01", now=NOW)
    assert window.start == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert window.end == datetime(2026, 4, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-05-01", "2026-04-01", "is not before its end"),
        ("2027-01-01", "2027-02-01", "in the future"),
        (None, "2027-02-01", "in the future"),
        ("yesterday", None, "--start: 'yesterday' is not a date"),
    ],
)
def test_bad_windows(tmp_path, start, end, message):
    config = load_config(write(tmp_path, BASE))
    with pytest.raises(ConfigError, match=message):
        resolve_window(config, start, end, now=NOW)


def test_the_demo_config_loads():
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo" / "ctlint.yaml"
    config = load_config(demo)
    assert [a.name for a in config.accounts] == ["demo", "backup"]
    assert config.allowlist[0].reason == "runs once a year for the audit"
    assert str(config.allowlist[0].expires) == "2027-06-30"


@pytest.mark.parametrize("text", ["١١١١١١١١١١١١", "111111111111\n", "11111111111", "1111111111111"])
def test_account_ids_are_exactly_twelve_ascii_digits(text):
    from ctlint.model import is_account_id

    assert not is_account_id(text)
    assert is_account_id("011111111111")
