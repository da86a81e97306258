"""Make attacker-controlled text inert before it reaches a terminal, a CI log or a Markdown comment.

Names, event names and paths come from pull requests and CloudTrail. Shown raw they could move the
cursor or recolour a terminal (ANSI escapes), forge report lines (newlines), start a GitHub workflow
command in the job log (a line beginning with `::` or `##[`), or turn a PR comment into links, images,
HTML and @mentions. Every human-facing renderer and every message on stderr passes data through here.
Machine formats (JSON, SARIF) keep exact values; XML gets `xml_text`, since XML 1.0 cannot hold most
control characters even as character references.
"""

from __future__ import annotations

import re
import unicodedata

MARKDOWN_CELL_LIMIT = 300  # characters of data per table cell; one huge name must not hide the rows after it

# C0 and C1 controls, DEL, line/paragraph separators, bidirectional overrides and isolates, zero-width
# and other format characters (category Cf), and lone surrogates: everything that is not plain text.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_LINE_COMMAND = re.compile(r"^(\s*)(::|##\[)", re.MULTILINE)
# Brackets start links and images, backticks code spans, pipes end cells; HTML goes as entities.
# Emphasis characters stay: they cannot link, load or hide anything, and names are full of `_`.
_MARKDOWN_SPECIAL = re.compile(r"([\\`\[\]|])")
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _is_format(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def visible(value: object) -> str:
    """One line of data with every control, format and separator character shown as an escape (`\\x1b`)."""
    text = value if isinstance(value, str) else str(value)
    text = _UNSAFE.sub(lambda m: _escape(m.group()), text)
    if text.isascii():
        return text
    # Tags, interlinear annotations and other rare Cf characters not in the fast pattern.
    return "".join(_escape(c) if _is_format(c) else c for c in text)


def guard_lines(text: str) -> str:
    """Stop any line of ctlint's output from being read as a GitHub workflow command (`::x::`, `##[x]`)."""
    return _LINE_COMMAND.sub(lambda m: m.group(1) + _escape(m.group(2)[0]) + m.group(2)[1:], text)


def sanitise_line(value: object) -> str:
    """A message for stderr or a single-line report field: visible escapes, never a workflow command."""
    return guard_lines(visible(value))


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


def markdown_text(value: object, limit: int = MARKDOWN_CELL_LIMIT) -> str:
    """Data for a Markdown table cell or line: no links, images, HTML, mentions or table breaks; capped."""
    text = cap(visible(value), limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # GitHub links @user, @org/team, #123 and bare URLs after parsing; a word joiner breaks each.
    text = text.replace("@", "@\u2060").replace("://", ":\u2060//").replace("www.", "www\u2060.")
    return text


def markdown_code(value: object, limit: int = MARKDOWN_CELL_LIMIT) -> str:
    """Data inside a Markdown code span of a table cell: nothing is rendered there but backticks and pipes."""
    return cap(visible(value), limit).replace("`", "'").replace("|", "\\|")


def xml_text(value: str) -> str:
    """`value` with the characters XML 1.0 cannot hold replaced by visible escapes (the rest exact)."""
    return _XML_FORBIDDEN.sub(lambda m: _escape(m.group()), value)


_STREAM_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_STREAM_COMMAND = re.compile(r"(?<=[\n\r])([ \t]*)(::|##\[)")


class InertStream:
    """A text stream (stderr) whose every write is made inert: controls escaped, no workflow command.

    Newlines, carriage returns (progress lines) and tabs pass; messages that carry data still pass
    the data through `visible` first, so a name cannot start a line of its own.
    """

    def __init__(self, target) -> None:
        self._target = target
        self._at_line_start = True

    def write(self, text: str) -> int:
        if not text:
            return 0
        safe = _STREAM_UNSAFE.sub(lambda m: _escape(m.group()), text)
        safe = _STREAM_COMMAND.sub(
            lambda m: m.group(1) + _escape(m.group(2)[0]) + m.group(2)[1:],
            "\n" + safe if self._at_line_start else "." + safe,
        )[1:]
        self._at_line_start = text.endswith(("\n", "\r"))
        self._target.write(safe)
        return len(text)

    _CONTROLS = frozenset({"\r\033[2K"})  # ctlint's own: clear the live progress line

    def write_control(self, sequence: str) -> None:
        """Write one of ctlint's own terminal controls unescaped; anything else is written inert."""
        if sequence not in self._CONTROLS:
            self.write(sequence)
            return
        self._target.write(sequence)
        self._at_line_start = True

    def __getattr__(self, name: str):  # flush, fileno, isatty, encoding, buffer, ...
        return getattr(self._target, name)
