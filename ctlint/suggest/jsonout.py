"""`ctlint suggest --json`: the suggestions as one JSON document (a public contract: docs/suggest.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from ctlint.model import Window
from ctlint.suggest.build import Suggestion
from ctlint.suggest.limits import ATTACHED_POLICIES_DEFAULT, ATTACHED_POLICIES_MAX

SCHEMA_VERSION = 1


def entry(suggestion: Suggestion, document_limit: int) -> dict[str, object]:
    return {
        "principal": suggestion.principal,
        "account": suggestion.account,
        "account_name": suggestion.account_name,
        "principal_type": suggestion.principal_type,
        "name": suggestion.name,
        "active": suggestion.active,
        "documents": list(suggestion.documents),
        "used": list(suggestion.used),
        "unobservable": list(suggestion.unobservable),
        "unobservable_kept": suggestion.unobservable_kept,
        "allowlisted": list(suggestion.allowlisted),
        "removed": list(suggestion.removed),
        "review": list(suggestion.review),
        "resources": {action: list(arns) for action, arns in suggestion.resources.items()},
        "statements": [
            {
                "sid": s.sid,
                "document": s.document,
                "purpose": s.purpose,
                "from": s.source,
                "actions": list(s.actions),
            }
            for s in suggestion.statements
        ],
        "limits": {
            "document_chars": list(suggestion.document_chars),
            "managed_policy_chars": document_limit,
            "attached_policies_default": ATTACHED_POLICIES_DEFAULT,
            "attached_policies_max": ATTACHED_POLICIES_MAX,
            "inline_chars": suggestion.inline_chars,
            "fits_inline": suggestion.fits_inline,
        },
        "notes": list(suggestion.notes),
    }


def render_json(
    suggestions: Sequence[Suggestion],
    *,
    tool_version: str,
    window: Window,
    data: Mapping[str, str],
    document_limit: int,
) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ctlint", "version": tool_version},
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "data": dict(data),
        "policies": [entry(s, document_limit) for s in suggestions],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
