"""IAM wildcard matching: `*` (any run of characters) and `?` (one character), case-insensitive.

IAM treats every other character literally, including `[`, `]`, `!` and `\\`; Python's fnmatch would read
`[...]` as a character class, which is wrong for IAM (policyuniverse made that mistake).
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=8192)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile an IAM wildcard pattern into an anchored, case-insensitive regular expression."""
    parts: list[str] = []
    for char in pattern:
        if char == "*":
            # Collapse runs of '*' so "a**b" does not create redundant backtracking.
            if parts and parts[-1] == ".*":
                continue
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    # DOTALL: '*' must also span newlines should a value ever contain one; \Z anchors the true end.
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE | re.DOTALL)


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def matches(pattern: str, value: str) -> bool:
    """True when `value` matches the IAM wildcard `pattern` as a whole (case-insensitive)."""
    if not has_wildcard(pattern):
        return pattern.casefold() == value.casefold()
    return compile_pattern(pattern).match(value) is not None
