"""Who behind a shared role: usage per session identity, and its inert rendering. Pure: no I/O.

A session identity is `sourceIdentity` when the session carries one, else the role session name (the
IAM Identity Center user behind AWSReservedSSO_*, an EC2 instance id, a CI job name). It comes from the
logs, so it is attacker-controlled: text output escapes control and format characters visibly and no
line starts with `::` (a GitHub Actions workflow command).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ctlint.events import MAPPED, map_event
from ctlint.model import ActionUse, IdentityUsageRow


@dataclass(frozen=True)
class SessionUsage:
    role_arn: str
    session: str
    actions: tuple[tuple[str, ActionUse], ...]  # IAM action -> use, sorted by action

    @property
    def last_seen(self) -> datetime:
        return max(use.last_seen for _, use in self.actions)


def usage_by_session(
    rows: Iterable[IdentityUsageRow], role_arn: str | None = None
) -> tuple[SessionUsage, ...]:
    """Per (role, session identity), the IAM actions its calls map to; events needing no IAM action are left
    out. Only `role_arn` (case-insensitive) when given. Sorted by role, then most recent session first."""
    found: dict[tuple[str, str], dict[str, ActionUse]] = {}
    for row in rows:
        if role_arn is not None and row.role_arn.casefold() != role_arn.casefold():
            continue
        mapping = map_event(row.event_source, row.event_name)
        if mapping.kind != MAPPED:
            continue
        actions = found.setdefault((row.role_arn, row.session), {})
        for action in mapping.actions:
            seen = actions.get(action)
            actions[action] = (
                ActionUse(row.count, row.first_seen, row.last_seen)
                if seen is None
                else ActionUse(
                    seen.count + row.count,
                    min(seen.first_seen, row.first_seen),
                    max(seen.last_seen, row.last_seen),
                )
            )
    sessions = [
        SessionUsage(role, session, tuple(sorted(actions.items())))
        for (role, session), actions in found.items()
        if actions
    ]
    return tuple(sorted(sessions, key=lambda s: (s.role_arn, -s.last_seen.timestamp(), s.session)))


def inert(text: str) -> str:
    """`text` safe for a terminal and a CI log: control and format characters (C0, C1, DEL, bidi overrides,
    zero-width) as visible escapes, and never `::` at the start."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    safe = "".join(out)
    return "\\" + safe if safe.startswith("::") else safe


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def session_lines(sessions: Iterable[SessionUsage]) -> list[str]:
    """`show --by-session`: a header per session identity, then its actions with count and last use."""
    lines: list[str] = []
    for session in sessions:
        lines.append(f"{inert(session.session)}  (last {_day(session.last_seen)})")
        width = max(len(action) for action, _ in session.actions)
        for action, use in session.actions:
            lines.append(f"  {action:<{width}}  {use.count:>6}  last {_day(use.last_seen)}")
    return lines


def sessions_json(sessions: Iterable[SessionUsage]) -> list[dict[str, object]]:
    """The `sessions` list of `ctlint usage --json` (JSON escapes every control character itself)."""
    return [
        {
            "role": s.role_arn,
            "session": s.session,
            "actions": {
                action: {
                    "count": use.count,
                    "first_seen": _day(use.first_seen),
                    "last_seen": _day(use.last_seen),
                }
                for action, use in s.actions
            },
        }
        for s in sessions
    ]
