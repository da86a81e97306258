"""A new list of entries written in the layout of the old one (JSON arrays and HCL tuples alike). Pure."""

from __future__ import annotations

from collections.abc import Sequence


def list_text(
    text: str, start: int, end: int, item_spans: Sequence[tuple[int, int]], items: Sequence[str]
) -> str:
    """Replacement for the list written at text[start:end] (`[` to `]`), holding `items` (as text).

    One entry per line when the old list was written so (same indentation, same closing line, a trailing
    comma kept where there was one), else on one line with the old separator.
    """
    written = text[start:end]
    if "\n" in written and item_spans:
        first = item_spans[0][0]
        indent = text[text.rfind("\n", 0, first) + 1 : first]
        closing = text[text.rfind("\n", 0, end - 1) + 1 : end - 1]
        trailing = text[item_spans[-1][1] : end - 1].lstrip().startswith(",")
        if not indent.strip() and not closing.strip():
            lines = ",\n".join(indent + item for item in items)
            return "[\n" + lines + ("," if trailing and items else "") + "\n" + closing + "]"
    separator = ", " if ", " in written or len(item_spans) < 2 else ","
    return "[" + separator.join(items) + "]"
