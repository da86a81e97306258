"""JSON and YAML parsing that remembers the 1-based line of every value.

Plan JSON has no source lines and PyYAML's plain loaders drop marks, so both formats are parsed into
plain Python values plus a map from the value's path (a tuple of keys and list indices) to its line.
SARIF then points at the line that grants an action, which is the line a pull request changes.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]  # CPython has it; typeshed omits it
from typing import Any

import yaml

from ctlint.errors import InputError

Path_ = tuple[Any, ...]

# Limits for untrusted IaC files, checked while parsing, before the work they would cause. A real plan
# or template nests a few dozen levels; one value per byte is as dense as YAML without aliases gets.
MAX_DEPTH = 128
MIN_VALUE_BUDGET = 100_000
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def value_budget(text: str) -> int:
    """How many values a document of this size may expand to (aliases beyond it are a 'billion laughs')."""
    return max(MIN_VALUE_BUDGET, len(text))


def lone_surrogate(value: str) -> int | None:
    """Index of the first lone UTF-16 surrogate in `value` (from a `\\ud800` escape), or None."""
    match = _SURROGATE.search(value)
    return match.start() if match else None


@dataclass(frozen=True)
class Located:
    """A parsed document and the line of each value, addressed by its path from the root."""

    value: Any
    lines: Mapping[Path_, int]
    source: str  # the file name as it should appear in reports

    def line(self, path: Path_) -> int:
        """The line of `path`, or of its nearest ancestor that has one (1 when nothing does)."""
        path = tuple(path)
        while path:
            found = self.lines.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.lines.get((), 1)


# ---------------------------------------------------------------- JSON

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


class _JsonParser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[Path_, int] = {}
        self.depth = 0
        # Only a `\ud800`-style escape (or a surrogate already in the text) can yield a lone surrogate:
        # most files have none, and their strings are then not searched one by one.
        self.may_hold_surrogates = bool(_SURROGATE_ESCAPE.search(text) or _SURROGATE.search(text))

    def string(self, pos: int) -> tuple[str, int]:
        try:
            value, end = scanstring(self.text, pos + 1, True)
        except json.JSONDecodeError as exc:
            raise self.fail(pos, exc.msg) from None
        if self.may_hold_surrogates and lone_surrogate(value) is not None:
            raise self.fail(pos, "a string holds a lone UTF-16 surrogate (not valid Unicode text)")
        return value, end

    def line_at(self, pos: int) -> int:
        return bisect.bisect_right(self.newlines, pos - 1) + 1 if self.newlines else 1

    def fail(self, pos: int, what: str) -> InputError:
        return InputError(f"{self.source}: invalid JSON at line {self.line_at(pos)}: {what}.")

    def skip(self, pos: int) -> int:
        # `[ \t\n\r]*` matches the empty string, so match() never returns None here.
        return _WS.match(self.text, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int, path: Path_) -> tuple[Any, int]:
        pos = self.skip(pos)
        self.lines[path] = self.line_at(pos)
        text = self.text
        if pos >= len(text):
            raise self.fail(pos, "unexpected end of file")
        char = text[pos]
        if char in "{[":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(pos, f"nested deeper than the limit of {MAX_DEPTH} levels")
            parsed = self.obj(pos + 1, path) if char == "{" else self.arr(pos + 1, path)
            self.depth -= 1  # not restored on an error: parsing ends there
            return parsed
        if char == '"':
            return self.string(pos)
        for word, literal in _LITERALS.items():
            if text.startswith(word, pos):
                return literal, pos + len(word)
        match = _NUMBER.match(text, pos)
        if match:
            number = match.group()
            is_float = match.group(1) or match.group(2)
            try:
                return (float(number) if is_float else int(number)), match.end()
            except ValueError:  # Python refuses integers of more than 4,300 digits (a CPU-time guard)
                raise self.fail(pos, f"a number of {len(number):,} digits is too long") from None
        raise self.fail(pos, f"unexpected character {char!r}")

    def obj(self, pos: int, path: Path_) -> tuple[dict, int]:
        result: dict[str, Any] = {}
        pos = self.skip(pos)
        if self.text.startswith("}", pos):
            return result, pos + 1
        while True:
            pos = self.skip(pos)
            if not self.text.startswith('"', pos):
                raise self.fail(pos, "expected a quoted key")
            key_line = self.line_at(pos)
            key_pos = pos
            key, pos = self.string(pos)
            if key in result:
                # Which copy would win is up to the reader; a gate must not guess which one AWS gets.
                raise self.fail(key_pos, f"duplicate key {key!r}")
            pos = self.skip(pos)
            if not self.text.startswith(":", pos):
                raise self.fail(pos, "expected ':'")
            value, pos = self.value(pos + 1, (*path, key))
            # A member's line is its key's line: that is where a reader looks.
            # Not `[(*path, key)]`: mypy reads a starred subscript as 3.11-only syntax, parentheses or not.
            self.lines[path + (key,)] = key_line
            result[key] = value
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("}", pos):
                return result, pos + 1
            raise self.fail(pos, "expected ',' or '}'")

    def arr(self, pos: int, path: Path_) -> tuple[list, int]:
        result: list[Any] = []
        pos = self.skip(pos)
        if self.text.startswith("]", pos):
            return result, pos + 1
        while True:
            value, pos = self.value(pos, (*path, len(result)))
            result.append(value)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos += 1
                continue
            if self.text.startswith("]", pos):
                return result, pos + 1
            raise self.fail(pos, "expected ',' or ']'")


def parse_json_located(text: str, source: str) -> Located:
    """Parse JSON text; raise InputError naming `source` and the line when it is not valid JSON."""
    parser = _JsonParser(text, source)
    value, pos = parser.value(0, ())
    pos = parser.skip(pos)
    if pos != len(text):
        raise parser.fail(pos, "extra data after the document")
    return Located(value, parser.lines, source)


# ---------------------------------------------------------------- YAML (CloudFormation short forms)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that composes nodes only; tags are turned into intrinsic functions by `_convert`."""

    depth = 0
    limit = budget = MIN_VALUE_BUDGET

    def compose_node(self, parent, index):
        # PyYAML composes recursively: refuse deep nesting before Python's recursion limit does.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise InputError(
                f"{self.name}: line {mark.line + 1}: nested deeper than the limit of {MAX_DEPTH} levels."
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def spend(self, node: yaml.Node) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise InputError(
                f"{self.name}: line {node.start_mark.line + 1}: the document expands to more than "
                f"{self.limit:,} values (the limit for its size; YAML aliases nested in aliases?)."
            )


def _intrinsic(tag: str, value: Any) -> dict[str, Any]:
    name = tag[1:]
    if name in ("Ref", "Condition"):
        return {name: value}
    if name == "GetAtt" and isinstance(value, str):
        # `!GetAtt Role.Arn` is the short form of ["Role", "Arn"].
        value = value.split(".", 1)
    return {f"Fn::{name}": value}


def _convert(node: yaml.Node, loader: _CfnLoader, path: Path_, lines: dict[Path_, int]) -> Any:
    loader.spend(node)
    lines.setdefault(path, node.start_mark.line + 1)
    custom = node.tag.startswith("!")
    if isinstance(node, yaml.ScalarNode):
        value = node.value if custom else loader.construct_object(node, deep=True)
        if isinstance(value, str) and (column := lone_surrogate(value)) is not None:
            raise InputError(
                f"{loader.name}: line {node.start_mark.line + 1}: a string holds a lone UTF-16 surrogate "
                f"at character {column + 1} (not valid Unicode text)."
            )
    elif isinstance(node, yaml.SequenceNode):
        value = [_convert(item, loader, (*path, i), lines) for i, item in enumerate(node.value)]
    elif isinstance(node, yaml.MappingNode):
        value = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise InputError(
                    f"{loader.name}: line {key_node.start_mark.line + 1}: mapping keys must be scalars."
                )
            if key in value:
                raise InputError(
                    f"{loader.name}: line {key_node.start_mark.line + 1}: duplicate key {key!r}."
                )
            lines[path + (key,)] = key_node.start_mark.line + 1  # see _JsonParser: no starred subscript
            value[key] = _convert(value_node, loader, (*path, key), lines)
    else:  # pragma: no cover - composer yields only the three node kinds
        raise InputError(f"{loader.name}: unsupported YAML node at line {node.start_mark.line + 1}.")
    return _intrinsic(node.tag, value) if custom else value


def parse_yaml_located(text: str, source: str) -> Located:
    """Parse YAML with CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, ...) into long form."""
    try:
        # PyYAML checks the characters as it is built: a control character fails here already.
        loader = _CfnLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise InputError(
            f"{source}: invalid YAML at line {line}: character U+{exc.character:04X} is not allowed in YAML "
            f"(position {exc.position})."
        ) from None
    loader.name = source
    loader.limit = loader.budget = value_budget(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        value = None if node is None else _convert(node, loader, (), lines)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{source}: invalid YAML{where}: {problem}.") from None
    finally:
        loader.dispose()
    return Located(value, lines, source)


def parse_located(text: str, source: str) -> Located:
    """JSON when the text starts like JSON, else YAML."""
    if text.lstrip().startswith(("{", "[")):
        return parse_json_located(text, source)
    return parse_yaml_located(text, source)
