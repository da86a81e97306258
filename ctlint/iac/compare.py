"""Where an IaC principal's findings point: at the pattern in the template or plan that grants the action.

The pull-request rules themselves (new-grant-unused, removed-grant-used, iac-unlinked) are rule kinds
like any other (ctlint.rulekinds). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from ctlint.iac.loader import IacResult
from ctlint.model import Principal, SourceLocation
from ctlint.wildcard import has_wildcard, matches

Locator = Callable[[Principal, str | None], SourceLocation | None]


def make_locator(result: IacResult) -> Locator:
    """Locate (principal, canonical action) at the pattern that grants it: an exact action string first,
    else the most specific wildcard, else the principal's own definition."""
    by_principal: dict[str, list[tuple[str, SourceLocation]]] = {}
    for (arn, pattern), where in result.action_locations.items():
        by_principal.setdefault(arn, []).append((pattern, where))

    def locate(principal: Principal, action: str | None) -> SourceLocation | None:
        if action is not None:
            candidates = [(p, w) for p, w in by_principal.get(principal.arn, ()) if matches(p, action)]
            if candidates:
                _, where = min(
                    candidates, key=lambda c: (has_wildcard(c[0]), -len(c[0]), c[1].path, c[1].line)
                )
                return where
        return principal.location

    return locate
