"""The per-principal summary that leads the text and Markdown reports. Pure: no I/O.

Counts come from grants and usage, not from findings, so they mean the same whatever rules run:
granted = effective actions; used = granted and used in the window; unused = granted, observable and
not used; unobservable = granted, not recorded by the configured trail, and not used.

The weighted share ranks principals by what their unused privilege could do. Weights per access level
(the most privileged level of an action counts): Permissions management 5, Write 4, Tagging 2, Read 2,
List 1, unknown 2. weighted_share = weight of the unused actions / weight of the observable granted
ones (used + unused). Principals are sorted by the weighted unused total, most first: a role granted
`*` that uses 14 actions ranks above a user with one unused List action, though both are near 100%.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from ctlint.model import ActionUse, Grants, Principal, PrincipalSummary

ACCESS_LEVEL_WEIGHTS: Mapping[str, float] = {
    "Permissions management": 5.0,
    "Write": 4.0,
    "Tagging": 2.0,
    "Read": 2.0,
    "List": 1.0,
}
UNKNOWN_WEIGHT = 2.0


def weight(access_level: str | None) -> float:
    return ACCESS_LEVEL_WEIGHTS.get(access_level or "", UNKNOWN_WEIGHT)


def summarise(
    account: str,
    account_name: str,
    principal: Principal,
    grants: Grants,
    used: Mapping[str, ActionUse],
    observable: frozenset[str],
    actions_by_level: Mapping[str, frozenset[str]],
    *,
    active: bool = True,
) -> PrincipalSummary:
    """`actions_by_level`: the catalog's actions per access level (`levels_of` builds it once per run);
    counting by set intersection keeps a principal granted `*` (22,000 actions) at C speed."""
    granted = grants.actions
    used_granted = used.keys() & granted
    not_used = granted - used_granted
    unused = not_used & observable
    by_level: dict[str, int] = {}
    unused_weight = observable_weight = 0.0
    unused_known = used_known = 0
    for level, actions in actions_by_level.items():
        n_unused, n_used = len(unused & actions), len(used_granted & actions)
        unused_known += n_unused
        used_known += n_used
        unused_weight += weight(level) * n_unused
        observable_weight += weight(level) * (n_unused + n_used)
        if n_unused:
            by_level[level] = n_unused
    other_unused, other_used = len(unused) - unused_known, len(used_granted) - used_known
    if other_unused:
        by_level["unknown"] = other_unused
    unused_weight += UNKNOWN_WEIGHT * other_unused
    observable_weight += UNKNOWN_WEIGHT * (other_unused + other_used)
    return PrincipalSummary(
        account=account,
        account_name=account_name,
        principal=principal.arn,
        principal_type=principal.type,
        name=principal.name,
        granted=len(granted),
        used=len(used_granted),
        unused=len(unused),
        unobservable=len(not_used) - len(unused),
        used_not_granted=len(used.keys() - granted),
        weighted_unused=unused_weight,
        weighted_share=unused_weight / observable_weight if observable_weight else 0.0,
        unused_by_level=dict(sorted(by_level.items())),
        active=active,
        service_linked=principal.is_service_linked,
    )


def levels_of(actions: Iterable[str], access_level: Callable[[str], str | None]) -> dict[str, frozenset[str]]:
    """The actions per access level (actions without one are left out: they weigh UNKNOWN_WEIGHT)."""
    found: dict[str, set[str]] = {}
    for action in actions:
        level = access_level(action)
        if level:
            found.setdefault(level, set()).add(action)
    return {level: frozenset(names) for level, names in sorted(found.items())}


def sort_summaries(summaries: Collection[PrincipalSummary]) -> tuple[PrincipalSummary, ...]:
    return tuple(
        sorted(
            summaries,
            key=lambda s: (s.service_linked, -s.weighted_unused, -s.weighted_share, s.account, s.principal),
        )
    )
