"""Exact questions about sets of ARNs described by IAM resource patterns and by ARN formats.

An IAM resource pattern (`arn:aws:s3:::b/*`) and an ARN format from the catalog
(`arn:${Partition}:s3:::${BucketName}/${ObjectName}`) both describe a regular language. In a pattern `*`
stands for any string (empty included), `?` for exactly one character. In a format `${Partition}` is
the principal's partition and any other `${Var}` stands for one or more characters other than `:` (names
and ids never hold the ARN's component separator); when the placeholder is a whole ARN component on its
own (`${Region}`, `${Account}`, the `${BucketName}` of a bucket), for one or more characters other than
`:` and `/` (so a bucket ARN is never `arn:aws:s3:::b/k`: the reading of the Service Authorization
Reference's resource-type matching in iam-simulate, which compares ARNs component by component).
Every other character stands for itself; resource matching is case-sensitive, as IAM's is.

`satisfiable(formula)` answers whether some string makes a boolean formula over such languages true
(`format AND allow AND NOT deny`, ...). It simulates every pattern's automaton in parallel (subset
construction on the fly) over a reduced alphabet: the characters that occur in some pattern plus one
character that occurs in none, which stands for every other character. So the answer is exact, not a
heuristic. Results are cached, and most questions are settled by a cheap literal-prefix test first.

No I/O here.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Atom", "Formula", "format_atom", "satisfiable", "witness", "matches_resource"]

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
# Tokens: two-character strings, never confused with a literal (one character).
_STAR, _ANY_ONE = "\x00*", "\x00?"
_NOSEP_STAR, _NOSEP_ONE = "\x00s", "\x00o"  # the same, but never ':' or '/'
_NOCOLON_STAR, _NOCOLON_ONE = "\x00c", "\x00d"  # the same, but never ':'
_SEPARATORS = frozenset(":/")


def format_atom(
    arn_formats: Iterable[str], partition: str = "aws", negated: bool = False, account: str | None = None
) -> Atom:
    """An atom true for the ARNs of any of `arn_formats` (catalog resource types' ARN formats); with
    `account`, only for the resources of that account."""
    return Atom(frozenset(_format_tokens(f, partition, account) for f in arn_formats), negated)


@lru_cache(maxsize=8192)
def _format_tokens(arn_format: str, partition: str, account: str | None = None) -> tuple[str, ...]:
    out: list[str] = []
    for i, component in enumerate(arn_format.split(":", 5)):
        if i:
            out.append(":")
        whole = _PLACEHOLDER.fullmatch(component) is not None
        pos = 0
        for m in _PLACEHOLDER.finditer(component):
            out.extend(component[pos : m.start()])
            if m.group(0) == "${Partition}":
                out.extend(partition)
            elif m.group(0) == "${Account}" and account is not None:
                out.extend(account)
            else:
                out.extend((_NOSEP_ONE, _NOSEP_STAR) if whole else (_NOCOLON_ONE, _NOCOLON_STAR))
            pos = m.end()
        out.extend(component[pos:])
    return tuple(out)


@lru_cache(maxsize=65536)
def _tokens(pattern: str | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(pattern, tuple):
        return pattern  # already tokens (a format)
    out: list[str] = []
    for char in pattern:
        if char == "*":
            if out and out[-1] == _STAR:
                continue
            out.append(_STAR)
        elif char == "?":
            out.append(_ANY_ONE)
        else:
            out.append(char)
    return tuple(out)


@lru_cache(maxsize=65536)
def _closure(tokens: tuple[str, ...], positions: frozenset[int]) -> frozenset[int]:
    """Positions reachable without reading a character (a `*` may match nothing)."""
    out = set(positions)
    stack = list(positions)
    while stack:
        i = stack.pop()
        if i < len(tokens) and tokens[i] in _STARS and i + 1 not in out:
            out.add(i + 1)
            stack.append(i + 1)
    return frozenset(out)


_STARS = frozenset((_STAR, _NOSEP_STAR, _NOCOLON_STAR))


def _admits(token: str, char: str) -> bool:
    """Whether a wildcard token can read `char` (False for a literal token)."""
    if token in (_STAR, _ANY_ONE):
        return True
    if token in (_NOCOLON_STAR, _NOCOLON_ONE):
        return char != ":"
    if token in (_NOSEP_STAR, _NOSEP_ONE):
        return char not in _SEPARATORS
    return False


def _step(tokens: tuple[str, ...], positions: frozenset[int], char: str) -> frozenset[int]:
    nxt: set[int] = set()
    for i in positions:
        if i >= len(tokens):
            continue
        token = tokens[i]
        if token in _STARS:
            if _admits(token, char):
                nxt.add(i)
        elif token == char or _admits(token, char):
            nxt.add(i + 1)
    return _closure(tokens, frozenset(nxt)) if nxt else frozenset()


class _Automaton:
    """One pattern's subset automaton, built lazily: each (state, character) step is computed once."""

    __slots__ = ("tokens", "start", "final", "_steps")

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self.tokens = tokens
        self.start = _closure(tokens, frozenset((0,)))
        self.final = len(tokens)
        self._steps: dict[tuple[frozenset[int], str], frozenset[int]] = {}

    def step(self, state: frozenset[int], char: str) -> frozenset[int]:
        key = (state, char)
        hit = self._steps.get(key)
        if hit is None:
            hit = self._steps[key] = _step(self.tokens, state, char) if state else state
        return hit

    def accepts(self, value: str) -> bool:
        state = self.start
        for char in value:
            state = self.step(state, char)
            if not state:
                return False
        return self.final in state


@lru_cache(maxsize=16384)
def _automaton(pattern: str | tuple[str, ...]) -> _Automaton:
    return _Automaton(_tokens(pattern))


def matches_resource(pattern: str, value: str) -> bool:
    """Case-sensitive IAM resource match of one concrete ARN."""
    tokens = _tokens(pattern)
    state = _closure(tokens, frozenset((0,)))
    for char in value:
        state = _step(tokens, state, char)
        if not state:
            return False
    return len(tokens) in state


@dataclass(frozen=True)
class Atom:
    """True for a string that matches one of `patterns` (or, when `negated`, matches none of them).
    A pattern is an IAM resource pattern (str) or a format's tokens (from `format_atom`)."""

    patterns: frozenset[str | tuple[str, ...]]
    negated: bool = False


# A formula in conjunctive form: every clause must hold; a clause holds when one of its atoms does.
# (Clauses are what the policy questions need: "a resource of the action AND an Allow AND NOT a Deny".)
Formula = tuple[tuple[Atom, ...], ...]


@lru_cache(maxsize=65536)
def _literal_prefix(pattern: str | tuple[str, ...]) -> tuple[str, ...]:
    tokens = _tokens(pattern)
    for i, token in enumerate(tokens):
        if len(token) > 1:
            return tokens[:i]
    return tokens


def _prefix_compatible(a: str | tuple[str, ...], b: str | tuple[str, ...]) -> bool:
    pa, pb = _literal_prefix(a), _literal_prefix(b)
    n = min(len(pa), len(pb))
    return pa[:n] == pb[:n]


def satisfiable(formula: Formula) -> bool:
    """Whether some string satisfies every clause of `formula` (exact; cached)."""
    pruned = _prune(formula)
    if pruned is None:  # settled by literal prefixes: skip normalising for the cache
        return False
    if len(pruned) <= 1 and not any(atom.negated for clause in pruned for atom in clause):
        # One clause of positive atoms (typically an action's ARN format alone, once the prefixes have
        # settled the rest): every pattern and every format matches some string.
        return not pruned or bool(pruned[0])
    return _satisfiable(_normalise(formula))


def witness(formula: Formula) -> str | None:
    """A string that satisfies every clause of `formula` (a shortest one from the search), or None."""
    return _witness(_normalise(formula))


def _normalise(formula: Iterable[tuple[Atom, ...]]) -> Formula:
    return tuple(sorted((tuple(sorted(set(c), key=_atom_key)) for c in formula), key=_clause_key))


def _atom_key(atom: Atom) -> tuple[bool, tuple[str, ...]]:
    return (atom.negated, tuple(sorted(repr(p) for p in atom.patterns)))


def _clause_key(clause: tuple[Atom, ...]) -> tuple:
    return tuple(_atom_key(a) for a in clause)


@lru_cache(maxsize=131072)
def _satisfiable(formula: Formula) -> bool:
    return _search(formula, want_witness=False) is not None


@lru_cache(maxsize=4096)
def _witness(formula: Formula) -> str | None:
    return _search(formula, want_witness=True)


# Characters tried first for "any other character" in a witness, so examples read like names.
_PREFERRED_OTHER = "xyzqjkw0123456789"


def _search(formula: Formula, want_witness: bool) -> str | None:
    """A satisfying string ("" stands for "some string" when no witness is wanted), or None."""
    if any(not clause for clause in formula):
        return None
    pruned = _prune(formula)
    if pruned is None:
        return None
    formula = pruned
    if not formula:
        return "x" if want_witness else ""
    concrete = _concrete_candidates(formula)
    if concrete is not None:
        # Some clause lists only concrete ARNs: the answer is whether one of them satisfies the rest.
        return next((v for v in sorted(concrete) if _holds_on(formula, v)), None)
    patterns = sorted({p for clause in formula for atom in clause for p in atom.patterns}, key=repr)
    index = {p: i for i, p in enumerate(patterns)}
    machines = [_automaton(p) for p in patterns]
    literals = {t for m in machines for t in m.tokens if len(t) == 1} | _SEPARATORS
    # One character that no pattern names (and no separator) stands for all the others.
    other = next(
        (c for c in _PREFERRED_OTHER if c not in literals),
        next((chr(c) for c in range(0x21, 0x2FFFF) if chr(c) not in literals), "x"),
    )
    alphabet = [other, *sorted(literals)]
    clauses = [[(atom.negated, [index[p] for p in atom.patterns]) for atom in clause] for clause in formula]
    # Clauses of positive atoms only: once all their automata are stuck, no extension can satisfy them.
    positive = [
        [i for _, members in clause for i in members]
        for clause in clauses
        if not any(negated for negated, _ in clause)
    ]

    def holds(state: tuple[frozenset[int], ...]) -> bool:
        for clause in clauses:
            for negated, members in clause:
                hit = any(machines[i].final in state[i] for i in members)
                if hit != negated:
                    break
            else:
                return False
        return True

    def dead(state: tuple[frozenset[int], ...]) -> bool:
        return any(not any(state[i] for i in members) for members in positive)

    start = tuple(m.start for m in machines)
    parent: dict[tuple[frozenset[int], ...], tuple[tuple[frozenset[int], ...], str] | None] = {start: None}
    frontier = deque([start])
    # Breadth first for a witness (the shortest, plain characters first); depth first is quicker to
    # answer a yes.
    take = frontier.popleft if want_witness else frontier.pop
    while frontier:
        state = take()
        if holds(state):
            if not want_witness:
                return ""
            chars: list[str] = []
            link = parent[state]
            while link is not None:
                state, char = link
                chars.append(char)
                link = parent[state]
            return "".join(reversed(chars))
        for char in alphabet:
            nxt = tuple(m.step(state[i], char) for i, m in enumerate(machines))
            if nxt not in parent:
                parent[nxt] = (state, char)
                if not dead(nxt):
                    frontier.append(nxt)
    return None


def _concrete_candidates(formula: Formula) -> frozenset[str] | None:
    for clause in formula:
        if all(not a.negated for a in clause):
            values = [p for a in clause for p in a.patterns]
            if all(isinstance(p, str) and "*" not in p and "?" not in p for p in values):
                return frozenset(values)  # type: ignore[arg-type]
    return None


def _holds_on(formula: Formula, value: str) -> bool:
    return all(
        any(any(_automaton(p).accepts(value) for p in atom.patterns) != atom.negated for atom in clause)
        for clause in formula
    )


def _prune(formula: Formula) -> Formula | None:
    """Drop what literal prefixes already decide, so most questions never build an automaton.

    A single-pattern positive clause (e.g. the action's one ARN format) fixes a prefix: positive atoms
    whose patterns cannot share it are false, negated ones true. None: the formula is unsatisfiable."""
    anchors = [
        next(iter(c[0].patterns))
        for c in formula
        if len(c) == 1 and not c[0].negated and len(c[0].patterns) == 1
    ]
    if not anchors:
        return formula
    out: list[tuple[Atom, ...]] = []
    for clause in formula:
        kept: list[Atom] = []
        true = False
        for atom in clause:
            live = frozenset(p for p in atom.patterns if all(_prefix_compatible(p, a) for a in anchors))
            if atom.negated:
                if not live:
                    true = True  # matches none of its patterns: a negated atom holds
                    break
                kept.append(Atom(live, True))
            elif live:
                kept.append(Atom(live))
        if true:
            continue
        if not kept:
            return None
        out.append(tuple(kept))
    return tuple(out)


def fits_format(arn_format: str, value: str, partition: str = "aws") -> bool:
    """Whether the concrete ARN `value` is one of the ARNs `arn_format` (a catalog format) describes:
    the language of `format_atom`, as a regular expression (one C-speed match per ARN, where the
    automaton would take a Python step per character)."""
    return _format_regex(arn_format, partition).fullmatch(value) is not None


# The placeholder tokens of `_format_tokens`, spelt for `re` (each literal character is escaped).
_TOKEN_REGEX = {_NOSEP_ONE: "[^:/]", _NOSEP_STAR: "[^:/]*", _NOCOLON_ONE: "[^:]", _NOCOLON_STAR: "[^:]*"}


@lru_cache(maxsize=8192)
def _format_regex(arn_format: str, partition: str) -> re.Pattern[str]:
    tokens = _format_tokens(arn_format, partition)
    return re.compile("".join(_TOKEN_REGEX.get(t) or re.escape(t) for t in tokens), re.DOTALL)
