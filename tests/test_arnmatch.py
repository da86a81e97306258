"""ctlint.arnmatch: exact satisfiability of formulas over IAM resource patterns and ARN formats."""

from __future__ import annotations

import itertools
import random

import pytest

from ctlint.arnmatch import Atom, format_atom, matches_resource, satisfiable

OBJECT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
BUCKET = "arn:${Partition}:s3:::${BucketName}"
TRAIL = "arn:${Partition}:cloudtrail:${Region}:${Account}:trail/${TrailName}"
PROFILE = "arn:${Partition}:iam::${Account}:instance-profile/${InstanceProfileNameWithPath}"


def pos(*patterns: str) -> Atom:
    return Atom(frozenset(patterns))


def neg(*patterns: str) -> Atom:
    return Atom(frozenset(patterns), negated=True)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # A Deny on arn:aws:s3:::* covers every object ARN.
        (((format_atom([OBJECT]),), (neg("arn:aws:s3:::*"),)), False),
        (((format_atom([OBJECT]),), (pos("arn:aws:s3:::b/*"),)), True),
        # A bucket ARN is never under b/* (a bucket name holds no '/').
        (((format_atom([BUCKET]),), (pos("arn:aws:s3:::b/*"),)), False),
        (((format_atom([BUCKET]),), (neg("arn:aws:s3:::safe/*"),)), True),
        (((format_atom([TRAIL]),), (neg("arn:aws:cloudtrail:*:*:trail/*"),)), False),
        (((format_atom([TRAIL]),), (neg("arn:aws:cloudtrail:us-east-1:*:trail/*"),)), True),
        (((format_atom([PROFILE]),), (pos("arn:aws:iam::*:user/*"),)), False),
        (((format_atom([PROFILE]),), (pos("arn:aws:iam::*:instance-profile/*"),)), True),
        # The partition is the principal's: an aws-cn pattern never matches an aws resource.
        (((format_atom([OBJECT]),), (pos("arn:aws-cn:s3:::*"),)), False),
        (((format_atom([OBJECT], partition="aws-cn"),), (pos("arn:aws-cn:s3:::*"),)), True),
        # Concrete ARNs are tested directly.
        (((format_atom([OBJECT]),), (pos("arn:aws:s3:::b/k"),), (neg("arn:aws:s3:::b/k?"),)), True),
        (((format_atom([OBJECT]),), (pos("arn:aws:s3:::b/k"),), (neg("arn:aws:s3:::b/*"),)), False),
        (((format_atom([OBJECT]),), (pos("arn:aws:s3:::b"),)), False),
        # Allow on one prefix, Deny on a wider one; and an empty clause.
        (((pos("arn:aws:s3:::b/x*"),), (neg("arn:aws:s3:::b/*"),)), False),
        (((pos("arn:aws:s3:::b/*"),), (neg("arn:aws:s3:::b/x*"),)), True),
        (((pos("a*"),), ()), False),
        ((), True),
    ],
)
def test_policy_questions(formula, expected):
    assert satisfiable(formula) is expected


def test_resource_match_is_case_sensitive_and_literal():
    assert matches_resource("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y")
    assert not matches_resource("arn:aws:s3:::B/*", "arn:aws:s3:::b/x")
    assert matches_resource("arn:aws:s3:::[a]?", "arn:aws:s3:::[a]z")
    assert not matches_resource("arn:aws:s3:::b?", "arn:aws:s3:::b")


_ALPHABET = "ab:/"


_STRINGS = ["".join(c) for n in range(6) for c in itertools.product(_ALPHABET + "c", repeat=n)]


def _brute(formula) -> bool:
    return any(
        all(
            any(any(_matches(p, value) for p in a.patterns) != a.negated for a in clause)
            for clause in formula
        )
        for value in _STRINGS
    )


def _matches(pattern, value: str) -> bool:
    return matches_resource(pattern, value) if isinstance(pattern, str) else _format_matches(pattern, value)


def _format_matches(tokens: tuple[str, ...], value: str) -> bool:
    from ctlint.arnmatch import _automaton

    return _automaton(tokens).accepts(value)


def test_agrees_with_brute_force_on_small_patterns():
    """Random formulas of short patterns over a 4-letter alphabet against every string up to length 5
    (longer than any shortest witness such patterns need)."""
    rng = random.Random(15)
    pieces = ["a", "b", ":", "/", "*", "?"]
    checked = 0
    for _ in range(200):
        clauses = []
        for _ in range(rng.randint(1, 3)):
            atoms = []
            for _ in range(rng.randint(1, 2)):
                patterns = frozenset(
                    "".join(rng.choice(pieces) for _ in range(rng.randint(0, 2)))
                    for _ in range(rng.randint(1, 2))
                )
                atoms.append(Atom(patterns, negated=rng.random() < 0.4))
            clauses.append(tuple(atoms))
        formula = tuple(clauses)
        assert satisfiable(formula) is _brute(formula), formula
        checked += 1
    assert checked == 200
