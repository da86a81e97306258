"""Every AWS managed policy the examples and fixtures attach resolves from the shipped data."""

import re
from pathlib import Path

import pytest

from ctlint.iac.managed import aws_managed_policy

ROOT = Path(__file__).resolve().parents[1]
_ARN = re.compile(r"arn:aws:iam::aws:policy/[A-Za-z0-9_+=,.@/-]+")


def _attached_in(folder: Path) -> set[str]:
    return {
        m
        for path in folder.rglob("*")
        if path.is_file()
        for m in _ARN.findall(path.read_text(errors="ignore"))
    }


@pytest.mark.parametrize("example", ["terraform", "cloudformation", "demo"])
def test_every_aws_managed_policy_an_example_attaches_resolves(example):
    arns = _attached_in(ROOT / "examples" / example)
    if example != "demo":
        assert arns, f"examples/{example} attaches no AWS managed policy"
    assert [arn for arn in sorted(arns) if aws_managed_policy(arn) is None] == []


def test_an_unknown_arn_resolves_to_nothing():
    assert aws_managed_policy("arn:aws:iam::aws:policy/NoSuchPolicy") is None
