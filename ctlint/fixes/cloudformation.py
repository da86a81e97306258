"""Edits of one statement of a CloudFormation template (JSON or YAML), in the style it is written in.

Only the statement's Action value changes (and its Resource value, when `ctlint fix` narrows it), or the
statement is deleted when nothing is left; every other
character of the file stays as it was. An edit is kept only when the template, re-read after it, is the
template read before with exactly that change: a location that does not re-read to the same statement,
an alias, a comment inside a flow list, anything unexpected means no patch.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ctlint.errors import InputError
from ctlint.fixes.layout import list_text
from ctlint.fixes.rewrite import ActionRewrite, rewrite_list
from ctlint.fixes.spans import json_spans, last_line_index, paths_at_line, yaml_node, yaml_root
from ctlint.fixes.textedit import EditConflict, apply_edits, span_edit
from ctlint.fixes.values import LineEdit
from ctlint.iac.lines import Located, parse_located

Path_ = tuple[Any, ...]
_PLAIN_ACTION = re.compile(r"[a-z0-9][a-z0-9-]*:[A-Za-z0-9]+")  # safe unquoted in YAML and in flow lists


class Unfixable(Exception):
    """No exact patch: the message says why, in one sentence."""


class ResourceUnfixable(Unfixable):
    """The Resource part of a patch cannot be written exactly (the Action part still can)."""


@dataclass(frozen=True)
class StatementEdit:
    path: Path_  # the statement inside the template
    edits: tuple[LineEdit, ...]
    action: Any  # the Action value the template must hold afterwards (unused when `remove`)
    remove: bool = False
    resource: Any = None  # the Resource value it must hold afterwards; None: unchanged


def is_json(text: str) -> bool:
    return text.lstrip().startswith(("{", "["))


@functools.lru_cache(maxsize=4)  # one parse per file, however many of its statements are fixed
def read_template(text: str, source: str) -> Located:
    """The file parsed as the check parses it (Located is read, never changed, by the editors)."""
    try:
        return parse_located(text, source)
    except InputError as exc:
        raise Unfixable(str(exc)) from None


def find_statement(located: Located, line: int, index: int) -> Path_:
    """The path of statement `index` (1-based) written at `line`; exactly one must match."""
    found = []
    for path in paths_at_line(located, line):
        if len(path) < 2 or path[0] != "Resources":
            continue
        at_index = path[-2:] == ("Statement", index - 1) or (index == 1 and path[-1] == "Statement")
        if at_index and isinstance(_value_at(located.value, path), Mapping):
            found.append(path)
    if len(found) != 1:
        raise Unfixable(f"{located.source}:{line}: no statement {index} is written there any more")
    return found[0]


def edit_statement(
    text: str,
    located: Located,
    path: Path_,
    rewrite: Callable[[Sequence[str]], ActionRewrite],
    resources: Sequence[str] | None = None,
) -> tuple[ActionRewrite, StatementEdit]:
    """The rewrite of the statement at `path` and the edits that write it (with its Resource list made
    `resources` when given; raises ResourceUnfixable when only that part cannot be written)."""
    statement = _value_at(located.value, path)
    where = f"{located.source}:{located.line(path)}"
    if "NotAction" in statement:
        raise Unfixable(f"{where}: the statement uses NotAction, which ctlint does not rewrite")
    action = statement.get("Action")
    patterns = [action] if isinstance(action, str) else action
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise Unfixable(f"{where}: the statement's Action is not a literal list of strings")
    result = rewrite(patterns)
    if result.removes_statement:
        return result, _removal(text, located, path, where)
    writer = _json_action if is_json(text) else _yaml_action
    edits, expected = writer(text, path + ("Action",), isinstance(action, str), result, where)
    if resources is None:
        return result, StatementEdit(path, edits, expected)
    resource_edits, resource = _resource_edits(text, statement, path, resources, writer, where)
    if {line for e in edits for line in range(e.first_line, e.last_line + 1)} & {
        line for e in resource_edits for line in range(e.first_line, e.last_line + 1)
    }:
        raise ResourceUnfixable(f"{where}: the Action and Resource values share a line")
    return result, StatementEdit(path, edits + resource_edits, expected, resource=resource)


def _resource_edits(
    text: str,
    statement: Mapping[str, Any],
    path: Path_,
    resources: Sequence[str],
    writer: Callable[..., tuple[tuple[LineEdit, ...], Any]],
    where: str,
) -> tuple[tuple[LineEdit, ...], Any]:
    """The edits that make the statement's Resource `resources`, written as the Action is."""
    value = statement.get("Resource")
    patterns = [value] if isinstance(value, str) else value
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        raise ResourceUnfixable(f"{where}: the statement's Resource is not a literal list of strings")
    try:
        return writer(
            text, path + ("Resource",), isinstance(value, str), rewrite_list(patterns, resources), where
        )
    except Unfixable as exc:
        raise ResourceUnfixable(str(exc).replace("Action", "Resource")) from None


def expected_after(value: Any, edits: Sequence[StatementEdit]) -> Any:
    """The parsed template as it must read after `edits` (later statements first, so indices hold)."""
    out = copy.deepcopy(value)
    for edit in sorted(edits, key=lambda e: e.path, reverse=True):
        parent = _value_at(out, edit.path[:-1])
        if edit.remove:
            del parent[edit.path[-1]]
        else:
            parent[edit.path[-1]]["Action"] = edit.action
            if edit.resource is not None:
                parent[edit.path[-1]]["Resource"] = edit.resource
    return out


def apply_and_verify(text: str, located: Located, edits: Sequence[StatementEdit]) -> str:
    """The new text; raises Unfixable unless it re-reads to the template with exactly these changes."""
    try:
        after = apply_edits(text, [e for edit in edits for e in edit.edits])
    except EditConflict as exc:
        raise Unfixable(f"{located.source}: {exc}") from None
    try:
        reread = parse_located(after, located.source)
    except InputError:
        raise Unfixable(f"{located.source}: the edited template would not parse") from None
    if reread.value != expected_after(located.value, edits):
        raise Unfixable(f"{located.source}: the edited template would not re-read to the intended statement")
    return after


# ---------------------------------------------------------------- JSON


def _json_action(
    text: str, path: Path_, scalar: bool, result: ActionRewrite, where: str
) -> tuple[tuple[LineEdit, ...], Any]:
    spans = json_spans(text, _source(where))
    start, end = spans[path]
    items = _items(result, lambda j: text[slice(*spans[path if scalar else (*path, j)])], json.dumps)
    if scalar and len(items) == 1:
        replacement = items[0]
    else:
        item_spans = [] if scalar else [spans[path + (j,)] for j in range(len(result.slots))]
        replacement = list_text(text, start, end, item_spans, items)
    expected: Any = result.actions[0] if scalar and len(items) == 1 else list(result.actions)
    return (span_edit(text, start, end, replacement),), expected


# ---------------------------------------------------------------- YAML


def _yaml_action(
    text: str, path: Path_, scalar: bool, result: ActionRewrite, where: str
) -> tuple[tuple[LineEdit, ...], Any]:
    try:
        node = yaml_node(yaml_root(text, _source(where)), path)
    except InputError as exc:
        raise Unfixable(str(exc)) from None
    if node is None:
        raise Unfixable(f"{where}: the Action value is not where the template says")
    if isinstance(node, yaml.ScalarNode):
        items = _items(result, lambda _j: text[node.start_mark.index : node.end_mark.index], _yaml_scalar)
        replacement = items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"
        expected: Any = result.actions[0] if len(items) == 1 else list(result.actions)
        return (span_edit(text, node.start_mark.index, node.end_mark.index, replacement),), expected
    if not isinstance(node, yaml.SequenceNode) or not all(
        isinstance(item, yaml.ScalarNode) for item in node.value
    ):
        raise Unfixable(f"{where}: the Action value is not a plain YAML list")
    if node.flow_style:
        written = text[node.start_mark.index : node.end_mark.index]
        if "#" in written or "\n" in written:
            raise Unfixable(f"{where}: the Action flow list spans lines or holds a comment")
        items = _items(
            result,
            lambda j: text[node.value[j].start_mark.index : node.value[j].end_mark.index],
            _yaml_scalar,
        )
        replacement = "[" + ", ".join(items) + "]"
        return (span_edit(text, node.start_mark.index, node.end_mark.index, replacement),), list(
            result.actions
        )
    return _yaml_block(text, node, result, where), list(result.actions)


def _yaml_block(
    text: str, node: yaml.SequenceNode, result: ActionRewrite, where: str
) -> tuple[LineEdit, ...]:
    lines = text.splitlines(keepends=True)
    edits = []
    for item, slot in zip(node.value, result.slots, strict=True):
        if slot is None:
            continue
        number = item.start_mark.line
        if item.end_mark.line != number:
            raise Unfixable(f"{where}: an Action entry spans several lines")
        line = lines[number]
        prefix = line[: item.start_mark.column]
        if not re.fullmatch(r"[ \t]*-[ \t]+", prefix):
            raise Unfixable(f"{where}: an Action entry shares its line with other YAML")
        ending = line[len(line.rstrip("\r\n")) :] or "\n"
        indent = prefix[: prefix.index("-")]
        new = tuple(f"{indent}- {_yaml_scalar(action)}{ending}" for action in slot)
        edits.append(LineEdit(number + 1, number + 1, new))
    return tuple(edits)


def _yaml_scalar(action: str) -> str:
    return action if _PLAIN_ACTION.fullmatch(action) else json.dumps(action)


# ---------------------------------------------------------------- removal


def _removal(text: str, located: Located, path: Path_, where: str) -> StatementEdit:
    siblings = _value_at(located.value, path[:-1])
    if path[-1] == "Statement" or not isinstance(siblings, list) or len(siblings) < 2:
        raise Unfixable(
            f"{where}: nothing of the policy would be left; remove the policy (or its attachment) instead"
        )
    index = path[-1]
    if is_json(text):
        spans = json_spans(text, _source(where))
        start, end = spans[path]
        if index > 0:
            start = spans[path[:-1] + (index - 1,)][1]  # from the end of the statement before (its comma)
        else:
            end = spans[path[:-1] + (1,)][0]  # to the start of the next one
        return StatementEdit(path, (span_edit(text, start, end, ""),), None, remove=True)
    try:
        parent = yaml_node(yaml_root(text, _source(where)), path[:-1])
    except InputError as exc:
        raise Unfixable(str(exc)) from None
    if not isinstance(parent, yaml.SequenceNode) or parent.flow_style:
        raise Unfixable(f"{where}: the statement is in a flow list, which cannot be cut as whole lines")
    item = parent.value[index]
    lines = text.splitlines(keepends=True)
    first = item.start_mark.line
    prefix = lines[first][: item.start_mark.column]
    if not re.fullmatch(r"[ \t]*-[ \t]+", prefix):
        raise Unfixable(f"{where}: the statement shares its first line with other YAML")
    return StatementEdit(path, (LineEdit(first + 1, last_line_index(item) + 1, ()),), None, remove=True)


# ---------------------------------------------------------------- helpers


def _items(result: ActionRewrite, original: Callable[[int], str], quote: Callable[[str], str]) -> list[str]:
    """The new entries as text: kept entries exactly as written, new ones quoted for the format."""
    out: list[str] = []
    for j, slot in enumerate(result.slots):
        out.extend([original(j)] if slot is None else [quote(action) for action in slot])
    return out


def _source(where: str) -> str:
    """The file of a "file:line" place (the parse caches are per file, not per statement)."""
    return where.rsplit(":", 1)[0]


def _value_at(value: Any, path: Path_) -> Any:
    for key in path:
        value = value[key]
    return value
