"""A bounded reader of the parts of Terraform's HCL native syntax that a policy edit needs, with spans.

Blocks (`resource "T" "N" { ... }`), attributes (`name = expression`), and, inside expressions, the
literal values of `jsonencode({...})` (objects, tuples, strings, numbers, booleans); everything else
(references, function calls, `for` expressions, templates with `${...}`) is kept as opaque text. Strings,
heredocs and comments are skipped exactly, so a brace inside them never counts. Files come from pull
requests: nesting depth and size are bounded, and any text this reader does not understand is an error,
never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 128
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")


class HclError(ValueError):
    """Text this reader cannot follow exactly."""


@dataclass
class Attribute:
    name: str
    start: int  # where the name starts
    value_start: int
    value_end: int


@dataclass
class Block:
    type: str
    labels: tuple[str, ...]
    start: int
    end: int  # after the closing brace
    attributes: list[Attribute] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def attribute(self, name: str) -> Attribute | None:
        found = [a for a in self.attributes if a.name == name]
        return found[0] if len(found) == 1 else None

    def children(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]


@dataclass(frozen=True)
class Opaque:
    """An expression that is not a literal (a reference, a call, a template): its text only."""

    text: str


@dataclass
class Literal:
    """A literal value with its span; objects and tuples hold Literal children."""

    value: Any  # str | int | float | bool | None | dict[str, Literal] | list[Literal] | Opaque
    start: int
    end: int
    quoted: bool = False  # a string written as "..." (not a heredoc)

    def plain(self) -> Any:
        """The Python value, children included; Opaque stays Opaque."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.depth = 0

    # ------------------------------------------------------------ lexical pieces

    def skip_space(self, pos: int, *, newlines: bool) -> int:
        text = self.text
        while pos < len(text):
            char = text[pos]
            if char in " \t\r" or (newlines and char == "\n"):
                pos += 1
            elif char == "#" or text.startswith("//", pos):
                end = text.find("\n", pos)
                pos = len(text) if end == -1 else end
            elif text.startswith("/*", pos):
                end = text.find("*/", pos + 2)
                if end == -1:
                    raise HclError(f"an unclosed /* comment at character {pos}")
                pos = end + 2
            else:
                break
        return pos

    def string_end(self, pos: int) -> tuple[int, bool]:
        """End of the quoted string at `pos` and whether it holds a template (`${`, `%{`)."""
        text = self.text
        i = pos + 1
        template = False
        while i < len(text):
            char = text[i]
            if char == "\\":
                i += 2
                continue
            if char == '"':
                return i + 1, template
            if char == "\n":
                raise HclError(f"a string at character {pos} runs past its line")
            if text.startswith(("$${", "%%{"), i):
                i += 3
                continue
            if text.startswith(("${", "%{"), i):
                template = True
                i = self.bracketed_end(i + 1)
                continue
            i += 1
        raise HclError(f"an unclosed string at character {pos}")

    def heredoc_end(self, pos: int) -> tuple[int, int, int]:
        """(body start, body end, end of the closing marker) of the heredoc at `pos`."""
        match = _HEREDOC.match(self.text, pos)
        if match is None:
            raise HclError(f"a heredoc at character {pos} has no marker")
        marker = match.group(2)
        body_start = match.end()
        closing = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.MULTILINE)
        found = closing.search(self.text, body_start)
        if found is None:
            raise HclError(f"the heredoc {marker} at character {pos} is never closed")
        return body_start, found.start(), found.end()

    def _quoted_end(self, pos: int) -> int | None:
        """End of the string or heredoc that opens at `pos`; None when neither does."""
        if self.text[pos] == '"':
            return self.string_end(pos)[0]
        if self.text.startswith("<<", pos) and _HEREDOC.match(self.text, pos):
            return self.heredoc_end(pos)[2]
        return None

    def bracketed_end(self, pos: int) -> int:
        """End (after the closing bracket) of the (), [] or {} group that opens at `pos`."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        stack = [pairs[self.text[pos]]]
        if len(stack) + self.depth > MAX_DEPTH:
            raise HclError(f"nested deeper than {MAX_DEPTH} levels")
        i = pos + 1
        text = self.text
        while i < len(text):
            i = self.skip_space(i, newlines=True)
            if i >= len(text):
                break
            char = text[i]
            if (quoted := self._quoted_end(i)) is not None:
                i = quoted
            elif char in pairs:
                stack.append(pairs[char])
                if len(stack) + self.depth > MAX_DEPTH:
                    raise HclError(f"nested deeper than {MAX_DEPTH} levels")
                i += 1
            elif char in ")]}":
                if char != stack.pop():
                    raise HclError(f"a mismatched {char!r} at character {i}")
                i += 1
                if not stack:
                    return i
            else:
                i += 1
        raise HclError(f"an unclosed {text[pos]!r} at character {pos}")

    def expression_end(self, pos: int) -> int:
        """End of the attribute value starting at `pos`: the first newline outside brackets."""
        text = self.text
        i = pos
        while i < len(text):
            i = self.skip_space(i, newlines=False)
            if i >= len(text) or text[i] == "\n":
                break
            char = text[i]
            if (quoted := self._quoted_end(i)) is not None:
                i = quoted
            elif char in "([{":
                i = self.bracketed_end(i)
            elif char in ")]}":
                break
            else:
                i += 1
        end = i
        while end > pos and text[end - 1] in " \t\r":
            end -= 1
        return end

    # ------------------------------------------------------------ structure

    def body(self, pos: int, end_char: str | None) -> tuple[list[Attribute], list[Block], int]:
        attributes: list[Attribute] = []
        blocks: list[Block] = []
        text = self.text
        while True:
            pos = self.skip_space(pos, newlines=True)
            if pos >= len(text):
                if end_char is not None:
                    raise HclError("a block is never closed")
                return attributes, blocks, pos
            if end_char is not None and text[pos] == end_char:
                return attributes, blocks, pos + 1
            match = _IDENT.match(text, pos)
            if match is None:
                raise HclError(f"unexpected {text[pos]!r} at character {pos}")
            name, after = match.group(), self.skip_space(match.end(), newlines=False)
            if text.startswith("=", after) and not text.startswith("==", after):
                value_start = self.skip_space(after + 1, newlines=False)
                value_end = self.expression_end(value_start)
                attributes.append(Attribute(name, pos, value_start, value_end))
                pos = value_end
                continue
            labels: list[str] = []
            i = after
            while i < len(text) and text[i] != "{":
                if text[i] == '"':
                    end, template = self.string_end(i)
                    if template:
                        raise HclError(f"a block label with a template at character {i}")
                    labels.append(text[i + 1 : end - 1])
                    i = self.skip_space(end, newlines=False)
                    continue
                label = _IDENT.match(text, i)
                if label is None:
                    raise HclError(f"unexpected {text[i]!r} in the header of block {name!r}")
                labels.append(label.group())
                i = self.skip_space(label.end(), newlines=False)
            if i >= len(text):
                raise HclError(f"block {name!r} has no body")
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise HclError(f"nested deeper than {MAX_DEPTH} levels")
            inner_attributes, inner_blocks, end = self.body(i + 1, "}")
            self.depth -= 1
            blocks.append(Block(name, tuple(labels), pos, end, inner_attributes, inner_blocks))
            pos = end

    # ------------------------------------------------------------ literal values

    def literal(self, pos: int, end: int) -> Literal:
        """The value written in text[pos:end] (one expression, surrounding space allowed)."""
        start = self.skip_space(pos, newlines=True)
        value, stop = self._value(start)
        if self.skip_space(stop, newlines=True) < end:
            return Literal(Opaque(self.text[start:end].strip()), start, end)
        return value

    def _value(self, pos: int) -> tuple[Literal, int]:
        text = self.text
        char = text[pos] if pos < len(text) else ""
        if char == '"':
            end, template = self.string_end(pos)
            raw = text[pos:end]
            if template:
                return Literal(Opaque(raw), pos, end), end
            return Literal(_unquote(raw), pos, end, quoted=True), end
        if char == "{":
            return self._object(pos)
        if char == "[":
            return self._tuple(pos)
        number = _NUMBER.match(text, pos)
        if number:
            raw = number.group()
            parsed: Any = float(raw) if number.group(1) or number.group(2) else int(raw)
            return self._maybe_opaque(Literal(parsed, pos, number.end()))
        word = _IDENT.match(text, pos)
        if word and word.group() in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[word.group()]
            return self._maybe_opaque(Literal(value, pos, word.end()))
        end = self._opaque_end(pos)
        return Literal(Opaque(text[pos:end].strip()), pos, end), end

    def _maybe_opaque(self, literal: Literal) -> tuple[Literal, int]:
        after = self.skip_space(literal.end, newlines=False)
        if after < len(self.text) and self.text[after] not in ",\n}]):#/":
            end = self._opaque_end(literal.start)
            return Literal(Opaque(self.text[literal.start : end].strip()), literal.start, end), end
        return literal, literal.end

    def _opaque_end(self, pos: int) -> int:
        """End of a non-literal expression inside an object or tuple: up to `,` or the closing bracket."""
        text = self.text
        i = pos
        while i < len(text):
            char = text[i]
            if (quoted := self._quoted_end(i)) is not None:
                i = quoted
            elif char in "([{":
                i = self.bracketed_end(i)
            elif char in ",)]}\n":
                break
            else:
                i += 1
        return i

    def _object(self, pos: int) -> tuple[Literal, int]:
        text = self.text
        items: dict[str, Literal] = {}
        self._enter()
        i = pos + 1
        while True:
            i = self.skip_space(i, newlines=True)
            if i >= len(text):
                raise HclError(f"an unclosed object at character {pos}")
            if text[i] == "}":
                self.depth -= 1
                return Literal(items, pos, i + 1), i + 1
            if text[i] == '"':
                key_end, template = self.string_end(i)
                if template:
                    raise HclError(f"an object key with a template at character {i}")
                key = _unquote(text[i:key_end])
            else:
                match = _IDENT.match(text, i)
                if match is None:
                    raise HclError(f"an object key that is not a name or a string at character {i}")
                key, key_end = match.group(), match.end()
            i = self.skip_space(key_end, newlines=False)
            if i >= len(text) or text[i] not in "=:":
                raise HclError(f"an object key without '=' at character {i}")
            if key in items:
                raise HclError(f"duplicate object key {key!r} at character {i}")
            value, i = self._value(self.skip_space(i + 1, newlines=False))
            items[key] = value
            i = self.skip_space(i, newlines=False)
            if i < len(text) and text[i] == ",":
                i += 1

    def _tuple(self, pos: int) -> tuple[Literal, int]:
        text = self.text
        items: list[Literal] = []
        self._enter()
        i = pos + 1
        while True:
            i = self.skip_space(i, newlines=True)
            if i >= len(text):
                raise HclError(f"an unclosed tuple at character {pos}")
            if text[i] == "]":
                self.depth -= 1
                return Literal(items, pos, i + 1), i + 1
            if text.startswith("for", i) and re.match(r"for\s", text[i : i + 4]):
                end = self.bracketed_end(pos)
                self.depth -= 1
                return Literal(Opaque(text[pos:end]), pos, end), end
            value, i = self._value(i)
            items.append(value)
            i = self.skip_space(i, newlines=True)
            if i < len(text) and text[i] == ",":
                i += 1
            elif i < len(text) and text[i] != "]":
                raise HclError(f"expected ',' or ']' at character {i}")

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise HclError(f"nested deeper than {MAX_DEPTH} levels")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(raw: str) -> str:
    out = []
    i = 1
    while i < len(raw) - 1:
        char = raw[i]
        if char == "\\":
            nxt = raw[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt in "uU":
                size = 4 if nxt == "u" else 8
                digits = raw[i + 2 : i + 2 + size]
                if not re.fullmatch(f"[0-9A-Fa-f]{{{size}}}", digits) or int(digits, 16) > 0x10FFFF:
                    raise HclError(f"an invalid escape \\{nxt}{digits} in a string")
                out.append(chr(int(digits, 16)))
                i += 2 + size
                continue
            raise HclError(f"an unknown escape \\{nxt} in a string")
        if raw.startswith(("$${", "%%{"), i):
            out.append(raw[i + 1 : i + 3])
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


def parse_hcl(text: str) -> list[Block]:
    """The top-level blocks of a .tf file (attributes at top level are not Terraform)."""
    scanner = _Scanner(text)
    attributes, blocks, _ = scanner.body(0, None)
    if attributes:
        raise HclError(f"an attribute {attributes[0].name!r} outside any block")
    return blocks


def literal_at(text: str, start: int, end: int) -> Literal:
    """The literal value of the expression text[start:end]."""
    return _Scanner(text).literal(start, end)


def heredoc_body(text: str, start: int) -> tuple[int, int, bool] | None:
    """(body start, body end, indented) when text[start:] opens a heredoc, else None."""
    if not _HEREDOC.match(text, start):
        return None
    body_start, body_end, _ = _Scanner(text).heredoc_end(start)
    return body_start, body_end, text[start + 2] == "-"
