"""Bounded parsing of untrusted IaC and snapshot files: each hostile file ends in one sentence naming the
file and the limit, fast, never a MemoryError, RecursionError or 'internal error'."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ctlint.errors import InputError
from ctlint.iac.lines import MAX_DEPTH, parse_json_located, parse_located, parse_yaml_located
from ctlint.iac.loader import load_iac
from ctlint.inventory import read_snapshot
from ctlint.limits import MAX_PLAN_BYTES, MAX_SNAPSHOT_BYTES, MAX_TEMPLATE_BYTES

A = "111111111111"
REAL_IAM = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "iam"


def _load(tmp_path: Path, kind: str, name: str, text: str | None = None):
    if text is not None:
        (tmp_path / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    return load_iac([{kind: name}], base_dir=tmp_path, account_id=A, account_name="demo", snapshot=None)


def _snapshot(tmp_path: Path, text: str):
    path = tmp_path / "snapshot.json"
    path.write_text(text)
    return read_snapshot(path, account_id=A, account_name="demo", display_path="snapshot.json")


# ---------------------------------------------------------------- duplicate keys


def test_a_plan_with_a_duplicate_policy_key_is_an_input_error():
    text = '{"planned_values": {\n "x": 1,\n "policy": "{}",\n "policy": "{\\"Statement\\": []}"}}'
    with pytest.raises(InputError) as caught:
        parse_json_located(text, "plan.json")
    assert str(caught.value) == "plan.json: invalid JSON at line 4: duplicate key 'policy'."


def test_a_yaml_template_with_a_duplicate_key_is_an_input_error():
    text = "Resources:\n  R:\n    Type: A\n    Type: AWS::IAM::Role\n"
    with pytest.raises(InputError) as caught:
        parse_yaml_located(text, "template.yaml")
    assert str(caught.value) == "template.yaml: line 4: duplicate key 'Type'."


def test_a_snapshot_with_a_duplicate_key_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as caught:
        _snapshot(tmp_path, '{"UserDetailList": [], "RoleDetailList": [], "UserDetailList": []}')
    assert "snapshot.json" in str(caught.value) and "'UserDetailList' twice" in str(caught.value)


# ---------------------------------------------------------------- depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deeply_nested_json_is_refused_by_its_depth(depth):
    text = "[" * depth + "]" * depth
    with pytest.raises(InputError) as caught:
        parse_json_located(text, "plan.json")
    assert str(caught.value) == (
        f"plan.json: invalid JSON at line 1: nested deeper than the limit of {MAX_DEPTH} levels."
    )


def test_nesting_at_the_limit_is_read():
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json_located(text, "plan.json").value is not None


@pytest.mark.parametrize("text", ["[" * 100_000, "a:\n" + "".join("  " * i + "- \n" for i in range(1, 3000))])
def test_deeply_nested_yaml_is_refused_by_its_depth(text):
    with pytest.raises(InputError) as caught:
        parse_yaml_located(text, "template.yaml")
    assert f"nested deeper than the limit of {MAX_DEPTH} levels" in str(caught.value)
    assert str(caught.value).startswith("template.yaml: ")


def test_a_deeply_nested_snapshot_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as caught:
        _snapshot(tmp_path, '{"UserDetailList": ' + "[" * 200_000 + "]" * 200_000 + "}")
    assert str(caught.value).startswith("snapshot.json: the IAM snapshot is nested deeper")


# ---------------------------------------------------------------- alias bombs and size


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


def test_a_yaml_alias_bomb_is_refused_before_it_grows():
    # CPU time, not the wall clock: the bound is on the work done, which a loaded machine does not change.
    began = time.process_time()
    with pytest.raises(InputError) as caught:
        parse_located(BOMB, "template.yaml")
    assert time.process_time() - began < 5
    assert "template.yaml: line " in str(caught.value)
    assert "expands to more than 100,000 values" in str(caught.value)


def test_ordinary_aliases_are_still_read():
    value = parse_located("x: &x [1, 2]\ny: *x\n", "template.yaml").value
    assert value == {"x": [1, 2], "y": [1, 2]}


@pytest.mark.parametrize(
    ("kind", "limit", "what"),
    [
        ("cloudformation", MAX_TEMPLATE_BYTES, "CloudFormation template"),
        ("terraform_plan", MAX_PLAN_BYTES, "Terraform plan"),
    ],
)
def test_an_oversized_iac_file_is_refused_by_its_size_before_reading(tmp_path, kind, limit, what):
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:  # sparse: as large as it claims, written in no time
        handle.truncate(limit + 1)
    began = time.process_time()
    with pytest.raises(InputError) as caught:
        _load(tmp_path, kind, "big.json")
    assert time.process_time() - began < 1
    assert str(caught.value).startswith(f"big.json: the {what} is ")
    assert f"over ctlint's limit of {limit / 2**20:,.1f} MiB" in str(caught.value)


def test_a_50_mb_template_is_refused_fast(tmp_path):
    with open(tmp_path / "t.yaml", "wb") as handle:
        handle.truncate(50 * 2**20)
    began = time.process_time()
    with pytest.raises(InputError, match=r"^t\.yaml: the CloudFormation template is 50\.0 MiB, over"):
        _load(tmp_path, "cloudformation", "t.yaml")
    assert time.process_time() - began < 1


def test_an_oversized_snapshot_is_refused_by_its_size(tmp_path):
    path = tmp_path / "snapshot.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SNAPSHOT_BYTES + 1)
    with pytest.raises(InputError, match=r"^snapshot\.json: the IAM snapshot is .* over ctlint's limit"):
        read_snapshot(path, account_id=A, account_name="demo", display_path="snapshot.json")


@pytest.mark.skipif(not REAL_IAM.is_dir(), reason="../shared/realdata is not present on this machine")
def test_real_snapshots_fit_the_limit_with_margin():
    sizes = [p.stat().st_size for p in REAL_IAM.rglob("*.json")]
    assert sizes and max(sizes) * 100 < MAX_SNAPSHOT_BYTES


# ---------------------------------------------------------------- text that is not Unicode


def test_a_lone_surrogate_in_a_plan_is_named_by_file_and_line():
    text = '{"a": 1,\n "name": "x\\ud800y"}'
    with pytest.raises(InputError) as caught:
        parse_json_located(text, "plan.json")
    assert str(caught.value) == (
        "plan.json: invalid JSON at line 2: a string holds a lone UTF-16 surrogate (not valid Unicode text)."
    )


def test_a_surrogate_pair_is_text():
    assert parse_json_located('{"n": "\\ud83d\\ude00"}', "p.json").value == {"n": "\U0001f600"}


def test_a_lone_surrogate_in_yaml_is_named_by_file_and_line():
    with pytest.raises(InputError) as caught:
        parse_yaml_located('a: 1\nb: "x\\ud800"\n', "template.yaml")
    assert str(caught.value) == (
        "template.yaml: line 2: a string holds a lone UTF-16 surrogate at character 2 (not valid Unicode text)."
    )


def test_a_lone_surrogate_in_a_snapshot_is_named_by_key(tmp_path):
    text = json.dumps({"UserDetailList": [{"UserName": "x\ud800"}]})
    with pytest.raises(InputError) as caught:
        _snapshot(tmp_path, text)
    assert str(caught.value) == (
        "snapshot.json: $.UserDetailList[0].UserName holds a lone UTF-16 surrogate at character 2 "
        "(not valid Unicode text)."
    )


def test_a_file_that_is_not_utf8_is_named_with_its_byte(tmp_path):
    (tmp_path / "t.yaml").write_bytes(b"Resources:\n  R: \xff\n")
    with pytest.raises(InputError, match=r"^t\.yaml: the cloudformation file is not UTF-8 text \(byte 16"):
        _load(tmp_path, "cloudformation", "t.yaml")


def test_a_number_too_long_to_convert_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"^plan\.json: invalid JSON at line 1: a number of 5,000 digits"):
        parse_json_located('{"a": ' + "9" * 5000 + "}", "plan.json")
    with pytest.raises(
        InputError, match=r"^snapshot\.json: the IAM snapshot holds a value ctlint cannot read"
    ):
        _snapshot(tmp_path, '{"UserDetailList": [' + "9" * 5000 + "]}")


def test_a_control_character_in_yaml_is_named_by_line():
    with pytest.raises(InputError) as caught:
        parse_yaml_located("a: 1\nb: x\x1f\n", "template.yaml")
    assert str(caught.value) == (
        "template.yaml: invalid YAML at line 2: character U+001F is not allowed in YAML (position 9)."
    )
