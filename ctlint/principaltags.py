"""Tags and unique ids of IAM users and roles, as the inputs give them, validated against IAM's own limits.

Both are attacker-controlled text that ctlint decides conditions on (aws:PrincipalTag/*, aws:userid) and
never renders. A value IAM would refuse is an input error naming the file, the record and the key:
- Tags: a list of {"Key": ..., "Value": ...} objects (the IAM API, CloudFormation) or a map of key to
  value (Terraform); at most 50 per principal; a key of 1 to 128 and a value of up to 256 characters,
  each of Unicode letters, digits, spaces and `_ . : / = + - @`; no two keys that differ only in case
  (IAM compares tag keys case-insensitively).
- UserId / RoleId: up to 128 ASCII letters, digits and `_ + = , . @ -` (IAM issues 21 letters and
  digits; sanitised exports and test data write names in their place).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from ctlint.errors import InputError

__all__ = ["MAX_TAGS", "check_tags", "tags_from_list", "tags_from_map", "unique_id"]

MAX_TAGS = 50
_MAX_KEY = 128
_MAX_VALUE = 256
_PUNCTUATION = frozenset("_.:/=+-@")
_UNIQUE_ID = re.compile(r"[A-Za-z0-9_+=,.@-]{1,128}")

Tags = tuple[tuple[str, str | None], ...]


def _allowed(text: str) -> bool:
    return all(c in _PUNCTUATION or unicodedata.category(c)[0] in "LZN" for c in text)


def _check_text(text: object, what: str, longest: int, where: str) -> str:
    if not isinstance(text, str):
        raise InputError(f"{where}: the tag {what} is a {type(text).__name__}, not a string.")
    if len(text) > longest or (what == "key" and not text):
        raise InputError(f"{where}: a tag {what} has {len(text)} characters; IAM allows 1 to {longest}.")
    if not _allowed(text):
        raise InputError(
            f"{where}: a tag {what} has a character IAM does not allow in tags "
            "(letters, digits, spaces and _ . : / = + - @ only)."
        )
    return text


def check_tags(pairs: Iterable[tuple[object, object]], where: str) -> Tags:
    """Validated (key, value) pairs; a value of None stands for one the input does not resolve."""
    out: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for key, value in pairs:
        checked = _check_text(key, "key", _MAX_KEY, where)
        if checked.lower() in seen:
            raise InputError(f"{where}: two tags have the same key (IAM compares tag keys without case).")
        seen.add(checked.lower())
        out.append((checked, None if value is None else _check_text(value, "value", _MAX_VALUE, where)))
    if len(out) > MAX_TAGS:
        raise InputError(f"{where}: {len(out)} tags; IAM allows at most {MAX_TAGS} per user or role.")
    return tuple(sorted(out))


def tags_from_list(raw: object, where: str) -> Tags:
    """Tags given as the IAM API gives them: [{"Key": "team", "Value": "blue"}, ...]."""
    if not isinstance(raw, list):
        raise InputError(f"{where}: Tags must be a list of {{Key, Value}} objects.")
    if len(raw) > MAX_TAGS:
        raise InputError(f"{where}: {len(raw)} tags; IAM allows at most {MAX_TAGS} per user or role.")
    pairs = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or set(item) != {"Key", "Value"}:
            raise InputError(f"{where}: Tags[{index}] must be an object with exactly Key and Value.")
        pairs.append((item["Key"], item["Value"]))
    return check_tags(pairs, where)


def tags_from_map(raw: object, where: str) -> Tags:
    """Tags given as a map (Terraform's tags / tags_all)."""
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: tags must be a map of tag keys to values.")
    if len(raw) > MAX_TAGS:
        raise InputError(f"{where}: {len(raw)} tags; IAM allows at most {MAX_TAGS} per user or role.")
    return check_tags(raw.items(), where)


def unique_id(raw: object, where: str) -> str | None:
    """A UserId / RoleId, or None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, str) or _UNIQUE_ID.fullmatch(raw) is None:
        raise InputError(
            f"{where}: not an IAM unique id (up to 128 ASCII letters, digits and _ + = , . @ -)."
        )
    return raw
