"""`ctlint suggest` on a terminal: per principal what stays, what goes, and the documents.

Names, resources and conditions come from IaC and CloudTrail: every value passes through
`ctlint.inert.visible`, and the whole text through `guard_lines`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ctlint.inert import guard_lines, visible
from ctlint.suggest.build import Suggestion

LISTED = 8  # actions named per list line; the JSON output lists them all


def _names(actions: Sequence[str]) -> str:
    shown = ", ".join(visible(a) for a in actions[:LISTED])
    more = f", ... ({len(actions) - LISTED} more)" if len(actions) > LISTED else ""
    return shown + more


def _principal(s: Suggestion) -> Iterable[str]:
    kind = "role" if s.principal_type == "role" else "user"
    state = "" if s.active else " (no activity in the window)"
    yield f"{kind} {visible(s.name)} ({visible(s.principal)}), account {visible(s.account_name)} ({s.account}){state}"
    yield f"  keeps {len(s.used)} used action(s): {_names(s.used)}" if s.used else "  used no granted action"
    if s.allowlisted:
        yield f"  keeps {len(s.allowlisted)} allowlisted: {_names(s.allowlisted)}"
    if s.unobservable:
        verb = "keeps" if s.unobservable_kept else "drops (--drop-unobservable)"
        yield f"  {verb} {len(s.unobservable)} not recorded by CloudTrail: {_names(s.unobservable)}"
    if s.removed:
        yield f"  removes {len(s.removed)} granted and never used: {_names(s.removed)}"
    if s.review:
        yield f"  review {len(s.review)} used but not granted (not added): {_names(s.review)}"
    for note in s.notes:
        yield f"  note: {visible(note)}"
    if not s.documents:
        yield "  no document: nothing to attach"
    for number, (document, chars) in enumerate(zip(s.documents, s.document_chars, strict=True), start=1):
        yield f"  document {number} of {len(s.documents)} ({chars:,} characters):"
        # ensure_ascii: every control or format character in a value becomes a JSON escape.
        for line in json.dumps(document, indent=2, ensure_ascii=True).splitlines():
            yield f"    {line}"


def render_text(suggestions: Sequence[Suggestion]) -> str:
    if not suggestions:
        return "no principal to suggest a policy for\n"
    blocks = ["\n".join(_principal(s)) for s in suggestions]
    return guard_lines("\n\n".join(blocks) + "\n")
