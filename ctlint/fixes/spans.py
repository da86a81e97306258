"""Where each value of a JSON or YAML file is written: character spans, for edits that keep formatting.

The readers in `ctlint.iac.lines` keep only lines; an edit needs the exact characters. JSON reuses the
same bounded parser (depth, duplicate keys, surrogates) and records spans beside the lines; YAML is
composed into nodes by the same loader, whose marks carry the character offsets.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import yaml

from ctlint.errors import InputError
from ctlint.iac.lines import Located, _CfnLoader, _JsonParser, value_budget

Path_ = tuple[Any, ...]


class _SpanParser(_JsonParser):
    def __init__(self, text: str, source: str) -> None:
        super().__init__(text, source)
        self.spans: dict[Path_, tuple[int, int]] = {}

    def value(self, pos: int, path: Path_) -> tuple[Any, int]:
        start = self.skip(pos)
        parsed, end = super().value(pos, path)
        self.spans[path] = (start, end)
        return parsed, end


@functools.lru_cache(maxsize=4)
def json_spans(text: str, source: str) -> dict[Path_, tuple[int, int]]:
    """(start, end) character offsets of every value of the JSON `text`, by path."""
    parser = _SpanParser(text, source)
    _, pos = parser.value(0, ())
    if parser.skip(pos) != len(text):
        raise parser.fail(pos, "extra data after the document")
    return parser.spans


@functools.lru_cache(maxsize=4)
def yaml_root(text: str, source: str) -> yaml.Node | None:
    """The composed (not constructed) YAML document, within the reader's limits."""
    try:
        loader = _CfnLoader(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: invalid YAML ({exc}).") from None
    loader.name = source
    loader.limit = loader.budget = value_budget(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: invalid YAML ({exc}).") from None
    finally:
        loader.dispose()


def yaml_node(root: yaml.Node | None, path: Sequence[Any]) -> yaml.Node | None:
    """The node at `path` (mapping keys compared as written scalars, sequence indices), or None."""
    node = root
    for key in path:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                    found = value_node
                    break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
        else:
            return None
    return node


def last_line_index(node: yaml.Node) -> int:
    """0-based index of the last line that holds any of `node`'s own text (not the comments after it)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        mark = node.end_mark
        return mark.line - 1 if mark.column == 0 and mark.line > node.start_mark.line else mark.line
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [value for _key, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    if not children:
        return node.start_mark.line
    return max(last_line_index(child) for child in children)


_LINE_INDEXES: dict[int, tuple[Located, dict[int, list[Path_]]]] = {}


def paths_at_line(located: Located, line: int) -> list[Path_]:
    """The paths of every value whose line is `line` (an index built once per parsed file)."""
    cached = _LINE_INDEXES.get(id(located))
    if cached is None or cached[0] is not located:
        index: dict[int, list[Path_]] = {}
        for path, at in located.lines.items():
            index.setdefault(at, []).append(path)
        if len(_LINE_INDEXES) >= 4:
            _LINE_INDEXES.pop(next(iter(_LINE_INDEXES)))
        cached = _LINE_INDEXES[id(located)] = (located, index)
    return cached[1].get(line, [])
