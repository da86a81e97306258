"""Property-based tests of policy evaluation over small synthetic action universes (hypothesis)."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from hypothesis import given, settings
from hypothesis import strategies as st

from ctlint.model import Principal
from ctlint.policy import compute_grants, parse_policy_document
from ctlint.wildcard import matches

SERVICES = ("s3", "ec2", "iam")
# Brackets are literal in IAM (unlike fnmatch): keep them in names and patterns to catch that mistake.
NAME_CHARS = "abAB[]"
PATTERN_CHARS = "abAB[]*?"


class SyntheticUniverse:
    def __init__(self, actions: Iterable[str]) -> None:
        self.all_actions = frozenset(actions)

    def expand(self, pattern: str) -> frozenset[str]:
        return frozenset(a for a in self.all_actions if matches(pattern, a))

    def expand_not(self, patterns: Iterable[str]) -> frozenset[str]:
        patterns = list(patterns)
        return frozenset(a for a in self.all_actions if not any(matches(p, a) for p in patterns))


def reference_match(pattern: str, action: str) -> bool:
    """fnmatchcase on lower-cased text with [ and ] escaped: IAM's `*` and `?` only."""
    escaped = "".join({"[": "[[]", "]": "[]]"}.get(c, c) for c in pattern.lower())
    return fnmatchcase(action.lower(), escaped)


actions = st.builds(
    lambda s, n: f"{s}:{n}", st.sampled_from(SERVICES), st.text(NAME_CHARS, min_size=1, max_size=4)
)


@st.composite
def universes(draw) -> SyntheticUniverse:
    names = draw(st.lists(actions, min_size=1, max_size=15))
    # The catalog is unique case-insensitively (its keys are lower-case).
    unique = {n.lower(): n for n in names}
    return SyntheticUniverse(unique.values())


patterns = st.one_of(
    st.just("*"),
    st.builds(
        lambda s, p: f"{s}:{p}",
        st.sampled_from(SERVICES + ("S3", "*", "e?2")),
        st.text(PATTERN_CHARS, max_size=4),
    ),
    st.text(PATTERN_CHARS + ":", min_size=1, max_size=6),
)
pattern_lists = st.lists(patterns, min_size=1, max_size=3)


@st.composite
def statements(draw, effect: str | None = None) -> dict:
    stmt: dict = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    key = draw(st.sampled_from(["Action", "NotAction"]))
    stmt[key] = draw(pattern_lists)
    scope = draw(st.sampled_from(["star", "specific", "not", "condition"]))
    if scope == "star":
        stmt["Resource"] = "*"
    elif scope == "specific":
        stmt["Resource"] = "arn:aws:s3:::bucket/*"
    elif scope == "not":
        stmt["NotResource"] = "arn:aws:s3:::bucket/*"
    else:
        stmt["Resource"] = "*"
        stmt["Condition"] = {"Bool": {"aws:SecureTransport": "true"}}
    return stmt


policies = st.lists(st.lists(statements(), min_size=1, max_size=3), max_size=3)


def principal(policy_statements: list[list[dict]], boundary: list[dict] | None = None) -> Principal:
    docs = tuple(
        parse_policy_document({"Statement": s}, name=f"p{i}", kind="inline", where=f"p{i}")
        for i, s in enumerate(policy_statements)
    )
    bdoc = (
        parse_policy_document({"Statement": boundary}, name="b", kind="boundary", where="b")
        if boundary
        else None
    )
    return Principal(
        arn="arn:aws:iam::111111111111:user/u",
        name="u",
        type="user",
        account_id="111111111111",
        policies=docs,
        boundary=bdoc,
    )


def granted(universe, policy_statements, boundary=None) -> frozenset[str]:
    return compute_grants(principal(policy_statements, boundary), universe).actions


@settings(max_examples=200, deadline=None)
@given(universe=universes(), pattern=patterns)
def test_wildcard_expansion_agrees_with_reference(universe, pattern):
    got = granted(universe, [[{"Effect": "Allow", "Action": pattern, "Resource": "*"}]])
    assert got == {a for a in universe.all_actions if reference_match(pattern, a)}


@settings(max_examples=200, deadline=None)
@given(universe=universes(), pats=pattern_lists)
def test_not_action_is_complement_of_action(universe, pats):
    with_action = granted(universe, [[{"Effect": "Allow", "Action": pats, "Resource": "*"}]])
    with_not_action = granted(universe, [[{"Effect": "Allow", "NotAction": pats, "Resource": "*"}]])
    assert with_action | with_not_action == universe.all_actions
    assert not with_action & with_not_action


@settings(max_examples=200, deadline=None)
@given(
    universe=universes(),
    pols=policies,
    deny_patterns=pattern_lists,
    boundary=st.none() | st.lists(statements(), min_size=1, max_size=2),
)
def test_unconditional_star_deny_always_wins(universe, pols, deny_patterns, boundary):
    deny = {"Effect": "Deny", "Action": deny_patterns, "Resource": "*"}
    got = granted(universe, [*pols, [deny]], boundary)
    denied = {a for a in universe.all_actions if any(reference_match(p, a) for p in deny_patterns)}
    assert not got & denied


@settings(max_examples=200, deadline=None)
@given(
    universe=universes(),
    pols=policies,
    extra=statements(effect="Allow"),
    boundary=st.none() | st.lists(statements(), min_size=1, max_size=2),
)
def test_adding_an_allow_never_removes_a_grant(universe, pols, extra, boundary):
    before = granted(universe, pols, boundary)
    after = granted(universe, [*pols, [extra]], boundary)
    assert before <= after


@settings(max_examples=200, deadline=None)
@given(
    universe=universes(),
    pols=policies,
    deny_patterns=pattern_lists,
    scope=st.sampled_from(
        [
            {"Resource": "arn:aws:s3:::b/*"},
            {"NotResource": "*"},
            {"Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}},
        ]
    ),
)
def test_scoped_deny_never_removes_a_grant(universe, pols, deny_patterns, scope):
    before = granted(universe, pols)
    after = granted(universe, [*pols, [{"Effect": "Deny", "Action": deny_patterns, **scope}]])
    assert before == after


@settings(max_examples=100, deadline=None)
@given(universe=universes(), pols=policies, boundary=st.lists(statements(), min_size=1, max_size=2))
def test_boundary_only_narrows(universe, pols, boundary):
    assert granted(universe, pols, boundary) <= granted(universe, pols)
