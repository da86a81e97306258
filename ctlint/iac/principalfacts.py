"""Tags and unique ids of the users and roles an IaC file defines (for the caller-decided condition keys).

- Terraform: `tags_all` (the resource's tags merged with the provider's default_tags) is the complete
  set when the plan knows it; otherwise `tags` is what is known and the set is incomplete (default tags
  may add more). A tag value known only after apply is unknown. `unique_id` is read when the plan knows
  it (a principal that exists already).
- CloudFormation: `Tags` is never the complete set (stack tags are added at deploy time). A key or value
  the template alone does not resolve is unknown; a Tags value that is an intrinsic function gives no
  known tags. CloudFormation gives no unique id before deploying.
Tag shapes IAM would refuse are input errors (ctlint.principaltags).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ctlint.errors import InputError
from ctlint.principaltags import check_tags, tags_from_map, unique_id

__all__ = ["cloudformation_facts", "terraform_facts"]


def terraform_facts(values: Mapping[str, Any], unknown: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Draft fields (tags, tags_complete, unique_id) from a Terraform resource's planned values."""
    facts: dict[str, Any] = {}
    for attr in ("tags_all", "tags"):
        known, flags = values.get(attr), unknown.get(attr)
        if flags is True or known is None:
            continue  # known only after apply, or not set
        if not isinstance(known, Mapping):
            raise InputError(f"{where}: {attr} must be a map of tag keys to values.")
        # A value known only after apply is left out of the planned map and flagged in after_unknown.
        pending = [k for k, flag in flags.items() if flag is True] if isinstance(flags, Mapping) else []
        facts["tags"] = tags_from_map({**known, **dict.fromkeys(pending)}, f"{where}: {attr}")
        facts["tags_complete"] = attr == "tags_all"
        break
    if values.get("unique_id") is not None:
        facts["unique_id"] = unique_id(values["unique_id"], f"{where}: unique_id")
    return facts


def cloudformation_facts(
    tags: object, resolve: Callable[[Any], str], unresolved: type[Exception], where: str
) -> dict[str, Any]:
    """Draft fields from a CloudFormation user's or role's `Tags` property (`resolve` raises
    `unresolved` for a value the template alone does not decide)."""
    if tags is None:
        return {}
    if isinstance(tags, Mapping) and len(tags) == 1 and str(next(iter(tags))).startswith("Fn::"):
        return {}
    if not isinstance(tags, list):
        raise InputError(f"{where}: Tags must be a list of {{Key, Value}} objects.")
    pairs: list[tuple[object, object]] = []
    for index, item in enumerate(tags):
        if not isinstance(item, Mapping) or set(item) != {"Key", "Value"}:
            raise InputError(f"{where}: Tags[{index}] must be an object with exactly Key and Value.")
        try:
            key = resolve(item["Key"])
        except unresolved:
            continue  # a tag whose key depends on the stack: the set is incomplete anyway
        try:
            value: str | None = resolve(item["Value"])
        except unresolved:
            value = None
        pairs.append((key, value))
    return {"tags": check_tags(pairs, where)}
