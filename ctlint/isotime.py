"""`datetime.fromisoformat` as Python 3.11 reads the extended ISO 8601 form, on Python 3.10 too.

ctlint supports Python 3.10, whose `fromisoformat` reads only `isoformat()`'s own output: no trailing
"Z" and a fraction of exactly 3 or 6 digits. On 3.10 such text is rewritten into that form first, so
`2026-06-01T12:00:00.5Z` reads the same on every supported Python. On 3.11+ this is `fromisoformat`.
(3.11's basic form, `20260601T120000`, and week dates remain 3.11-only.)
"""

from __future__ import annotations

import re
import sys
from datetime import datetime

_FRACTION = re.compile(r"(?<=:\d\d)\.(\d+)")


def _fraction(match: re.Match[str]) -> str:
    return "." + match.group(1)[:6].ljust(6, "0")  # 3.11 reads any number of digits, keeping 6


def fromisoformat(text: str) -> datetime:
    if sys.version_info >= (3, 11):
        return datetime.fromisoformat(text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(_FRACTION.sub(_fraction, text, count=1))
