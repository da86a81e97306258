"""ctlint.yaml: YAML merge keys work; duplicates outside a merge are still refused."""

from __future__ import annotations

import pytest
from test_config import write

from ctlint.config import load_config
from ctlint.errors import ConfigError

# The first account is the anchor (the schema allows no extra top-level key to hold defaults).
MERGED = """
accounts:
  - &defaults
    name: demo
    id: "111111111111"
    iam: iam/demo.json
  - <<: *defaults
    name: other
    id: "222222222222"
usage:
  local:
    paths: [logs]
"""


def test_merge_keys_fill_in_and_own_keys_override(tmp_path):
    config = load_config(write(tmp_path, MERGED))
    assert [(a.name, a.id) for a in config.accounts] == [("demo", "111111111111"), ("other", "222222222222")]
    assert config.accounts[0].iam == config.accounts[1].iam == tmp_path / "iam" / "demo.json"


def test_a_duplicate_key_beside_a_merge_is_still_refused(tmp_path):
    text = 'accounts:\n  - &a {name: demo, id: "111111111111", iam: iam/demo.json}\n  - <<: *a\n    name: x\n    name: y\n'
    with pytest.raises(ConfigError, match="duplicate key 'name'"):
        load_config(write(tmp_path, text + "usage:\n  local:\n    paths: [logs]\n"))
