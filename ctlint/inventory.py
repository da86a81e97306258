"""Read an IAM snapshot (`aws iam get-account-authorization-details` output) into an Inventory.

Every principal carries its resolved identity policies (own inline and managed, then those of its groups
with `via_group` set), its permissions boundary, and for roles the trust policy and `RoleLastUsed`.

Input tolerance, decided case by case (each choice is deliberate; see the tests):
- `AttachedManagedPolicies` given as a single object instead of a list (the aws-cli documentation example
  does this in two groups) is read as a one-item list: the meaning is unambiguous.
- AirIAM's cache format (AccountUsers / AccountGroups / AccountRoles / AccountPolicies) is the same
  entries under other top-level keys, so it is read as such.
- A customer-managed policy attached but absent from `Policies` is an error: the snapshot is broken or
  filtered and the principal's grants are unknowable.
- An AWS managed policy (arn:aws:iam::aws:policy/...) attached but absent from `Policies` is a warning,
  not an error: exports made with `--filter` without AWSManagedPolicy, and single pages of a paginated
  answer (the aws-cli documentation example, `IsTruncated: true`), legitimately lack them, and every
  account sees the same AWS managed policies. The document is taken from ctlint's shipped copy
  (ctlint.iac.managed, every AWS managed policy of the pinned data); one warning per policy names it,
  its holders and the shipped version. A `Policies` entry for an AWS managed policy without a
  `PolicyVersionList` counts as absent, and when its `DefaultVersionId` differs from the shipped one the
  warning says so. The snapshot's own document, when it has one, always wins.
- An AWS managed policy that neither the snapshot nor the shipped data has (a deprecated policy still
  attached in an old account, or a name AWS never had) is an error naming the policy and the file:
  counting no grants for it would be a silent pass.
- A principal ARN whose account field is a 12-digit id other than the configured account is an error;
  one whose account field is not an account id at all (sanitised exports write "aws") is a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ctlint.errors import InputError
from ctlint.iac.lines import lone_surrogate
from ctlint.iac.managed import data_version as managed_data_version
from ctlint.iac.managed import shipped_policy
from ctlint.isotime import fromisoformat
from ctlint.limits import check_file_size
from ctlint.model import Inventory, PolicyDocument, Principal, SourceLocation, is_account_id
from ctlint.policy import parse_policy_document
from ctlint.principaltags import tags_from_list, unique_id

__all__ = ["Snapshot", "load_snapshot", "read_snapshot"]

_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_AIRIAM_KEYS = {
    "AccountUsers": "UserDetailList",
    "AccountGroups": "GroupDetailList",
    "AccountRoles": "RoleDetailList",
    "AccountPolicies": "Policies",
}
_ARN_LINE = re.compile(r'"Arn"\s*:\s*"([^"\\]*)"')
_AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


@dataclass(frozen=True)
class Snapshot:
    """An inventory plus the warnings met while reading it (to be shown in every report)."""

    inventory: Inventory
    warnings: tuple[str, ...] = ()


def load_snapshot(
    path: Path, *, account_id: str, account_name: str, display_path: str | None = None
) -> Inventory:
    """Read a snapshot file into an Inventory; raise InputError naming the file and key when it is unusable.

    Warnings (see the module docstring) are dropped here; use `read_snapshot` to get them.
    """
    return read_snapshot(
        path, account_id=account_id, account_name=account_name, display_path=display_path
    ).inventory


def read_snapshot(
    path: Path, *, account_id: str, account_name: str, display_path: str | None = None
) -> Snapshot:
    """Like `load_snapshot`, also returning the warnings met while reading."""
    shown = display_path or str(path)
    check_file_size(path, "snapshot", shown)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{shown}: the IAM snapshot file does not exist.") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown}: the IAM snapshot is not UTF-8 text (byte {exc.start}).") from exc
    except OSError as exc:
        raise InputError(f"{shown}: the IAM snapshot cannot be read ({exc.strerror or exc}).") from exc
    return parse_snapshot(text, account_id=account_id, account_name=account_name, shown=shown)


def _loads(text: str, shown: str) -> object:
    if not text.strip():
        raise InputError(f"{shown}: the IAM snapshot is empty.")
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise InputError(
            f"{shown}: the IAM snapshot has the key {exc.key!r} twice in one object; "
            "which copy counts is ambiguous, so it is refused."
        ) from None
    except RecursionError:
        raise InputError(
            f"{shown}: the IAM snapshot is nested deeper than ctlint's JSON reader allows "
            "(about a thousand levels); a real snapshot nests fewer than ten."
        ) from None
    except json.JSONDecodeError as exc:
        # "Unterminated string" means no closing quote before the end of the file: cut off, too.
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise InputError(
                f"{shown}: the IAM snapshot is truncated: its JSON ends before it is complete "
                f"(from line {exc.lineno} column {exc.colno})."
            ) from exc
        raise InputError(
            f"{shown}: the IAM snapshot is not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})."
        ) from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits, which Python refuses to convert
        raise InputError(f"{shown}: the IAM snapshot holds a value ctlint cannot read ({exc}).") from None
    _check_unicode(document, text, shown)
    return document


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_unicode(document: object, text: str, shown: str) -> None:
    """A `\\ud800` escape without its pair decodes to a lone surrogate, which no output can encode."""
    if _SURROGATE_ESCAPE.search(text) is None:  # the common case: one regex pass, no walk
        return
    stack: list[tuple[object, str]] = [(document, "$")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            at = lone_surrogate(value)
            if at is not None:
                raise InputError(
                    f"{shown}: {where} holds a lone UTF-16 surrogate at character "
                    f"{at + 1} (not valid Unicode text)."
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, f"{where} (a key)"))
                stack.append((item, f"{where}.{key}"))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))


def _arn_lines(text: str) -> dict[str, tuple[int, int]]:
    """Line and column of the first `"Arn": "..."` of every ARN, in one pass over the text.

    The column matters for snapshots written on one line (`aws ... --output json | jq -c`): without it
    every principal would point at line 1 alone."""
    lines: dict[str, tuple[int, int]] = {}
    line, last = 1, 0
    for m in _ARN_LINE.finditer(text):
        line += text.count("\n", last, m.start())
        last = m.start()
        if m.group(1) not in lines:
            lines[m.group(1)] = (line, m.start() - text.rfind("\n", 0, m.start()))
    return lines


def _list(entry: Mapping, key: str, where: str) -> list:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{where}: {key} must be a list.")
    return value


def _str(entry: Mapping, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: {key} is missing or not a string.")
    return value


def _objects(data: Mapping, key: str, shown: str) -> list[Mapping]:
    items = _list(data, key, shown)
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InputError(f"{shown}: {key}[{i}] is not an object.")
    return items


def _last_used(entry: Mapping, where: str) -> datetime | None:
    last = entry.get("RoleLastUsed")
    if not isinstance(last, Mapping) or not last.get("LastUsedDate"):
        return None
    raw = last["LastUsedDate"]
    try:
        value = fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"{where}: RoleLastUsed.LastUsedDate {raw!r} is not an ISO 8601 date.") from exc
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class _Reader:
    """Resolves one snapshot; holds the per-file lookups so each managed policy is parsed once."""

    def __init__(self, data: Mapping, text: str, *, account_id: str, shown: str) -> None:
        self.data = data
        self.shown = shown
        self.account_id = account_id
        self.lines = _arn_lines(text)
        self.warnings: list[str] = []
        # AWS managed policies attached but absent from Policies: ARN -> the principals and groups holding them.
        self.missing_aws: dict[str, list[str]] = {}
        # AWS managed policies listed in Policies without versions: ARN -> the snapshot's DefaultVersionId.
        self.aws_default_versions: dict[str, str] = {}
        self.managed = self._managed_policies()
        self._docs: dict[tuple[str, str, str | None], PolicyDocument] = {}

    def loc(self, arn: str) -> SourceLocation:
        line, column = self.lines.get(arn, (1, None))
        return SourceLocation(self.shown, line, column)

    def _managed_policies(self) -> dict[str, PolicyDocument]:
        out: dict[str, PolicyDocument] = {}
        for i, pol in enumerate(_objects(self.data, "Policies", self.shown)):
            where = f"{self.shown}: Policies[{i}]"
            arn = _str(pol, "Arn", where)
            where = f"{self.shown}: managed policy {arn}"
            if arn.startswith(_AWS_MANAGED_PREFIX) and not pol.get("PolicyVersionList"):
                # Listed without its documents: resolved like an absent one, its version compared.
                self.aws_default_versions[arn] = str(pol.get("DefaultVersionId") or "")
                continue
            defaults = [
                v
                for v in _list(pol, "PolicyVersionList", where)
                if isinstance(v, Mapping) and v.get("IsDefaultVersion") is True
            ]
            if len(defaults) != 1:
                raise InputError(
                    f"{where}: has {len(defaults)} versions with IsDefaultVersion true, expected exactly 1."
                )
            version = defaults[0]
            if "Document" not in version:
                raise InputError(f"{where}: the default version has no Document.")
            out[arn] = parse_policy_document(
                version["Document"], name=arn, kind="managed", where=where, location=self.loc(arn)
            )
        return out

    def attached(self, entry: Mapping, owner: str, kind: str, via_group: str | None) -> list[PolicyDocument]:
        raw = entry.get("AttachedManagedPolicies")
        if isinstance(raw, Mapping):
            raw = [raw]  # aws-cli documentation quirk: a single object instead of a list
        elif raw is None:
            raw = []
        elif not isinstance(raw, list):
            raise InputError(f"{self.shown}: {owner}: AttachedManagedPolicies must be a list.")
        docs = []
        for i, att in enumerate(raw):
            if not isinstance(att, Mapping):
                raise InputError(f"{self.shown}: {owner}: AttachedManagedPolicies[{i}] is not an object.")
            arn = _str(att, "PolicyArn", f"{self.shown}: {owner}: AttachedManagedPolicies[{i}]")
            doc = self.managed_doc(arn, owner=owner, kind=kind, via_group=via_group)
            if doc is not None:
                docs.append(doc)
        return docs

    def managed_doc(self, arn: str, *, owner: str, kind: str, via_group: str | None) -> PolicyDocument | None:
        base = self.managed.get(arn)
        if base is None:
            if not arn.startswith(_AWS_MANAGED_PREFIX):
                raise InputError(
                    f"{self.shown}: {owner} has managed policy {arn} attached, but the snapshot's Policies list "
                    "does not include it (a broken or filtered snapshot)."
                )
            shipped = shipped_policy(arn)
            if shipped is None:
                raise InputError(
                    f"{self.shown}: {owner} has AWS managed policy {arn} attached, but neither the snapshot's "
                    f"Policies list nor ctlint's data ({managed_data_version()}) has its document (a deprecated "
                    "or unknown policy); export the snapshot without --filter, or with AWSManagedPolicy, to include it."
                )
            self.missing_aws.setdefault(arn, []).append(owner)
            base = shipped.document
        key = (arn, kind, via_group)
        doc = self._docs.get(key)
        if doc is None:
            # replace() keeps the same statements tuple: policy evaluation caches by it.
            doc = self._docs[key] = replace(base, kind=kind, via_group=via_group)
        return doc

    def inline(
        self, entry: Mapping, key: str, owner: str, kind: str, arn: str, via_group: str | None
    ) -> list[PolicyDocument]:
        docs = []
        for i, pol in enumerate(_list(entry, key, f"{self.shown}: {owner}")):
            if not isinstance(pol, Mapping):
                raise InputError(f"{self.shown}: {owner}: {key}[{i}] is not an object.")
            name = _str(pol, "PolicyName", f"{self.shown}: {owner}: {key}[{i}]")
            where = f"{self.shown}: {owner}, inline policy '{name}'"
            if "PolicyDocument" not in pol:
                raise InputError(f"{where}: has no PolicyDocument.")
            docs.append(
                parse_policy_document(
                    pol["PolicyDocument"],
                    name=name,
                    kind=kind,
                    where=where,
                    location=self.loc(arn),
                    via_group=via_group,
                )
            )
        return docs

    def missing_aws_warnings(self) -> tuple[str, ...]:
        """One warning per missing AWS managed policy (not one per attachment: 100 roles may share one)."""
        out = []
        for arn, owners in sorted(self.missing_aws.items()):
            held = ", ".join(owners[:3]) + (f" and {len(owners) - 3} more" if len(owners) > 3 else "")
            shipped = shipped_policy(arn)
            assert shipped is not None  # managed_doc raised otherwise
            listed = self.aws_default_versions.get(arn)
            if listed and listed != shipped.default_version:
                outcome = (
                    f"ctlint used its shipped copy of version {shipped.default_version} "
                    f"({managed_data_version()}), but the snapshot names {listed} as the default version, "
                    "so the grants counted may differ from the account's"
                )
            elif listed:
                outcome = (
                    f"ctlint used its shipped copy of version {shipped.default_version} "
                    f"({managed_data_version()}), the default version the snapshot names too"
                )
            else:
                outcome = (
                    f"ctlint used its shipped copy of version {shipped.default_version} "
                    f"({managed_data_version()}), which may lag AWS"
                )
            out.append(
                f"{self.shown}: AWS managed policy {arn} is attached to {held} but its document is missing from the snapshot's "
                f"Policies list; {outcome}."
            )
        return tuple(out)

    def boundary(self, entry: Mapping, owner: str) -> PolicyDocument | None:
        pb = entry.get("PermissionsBoundary")
        if not pb:
            return None
        if not isinstance(pb, Mapping):
            raise InputError(f"{self.shown}: {owner}: PermissionsBoundary must be an object.")
        arn = _str(pb, "PermissionsBoundaryArn", f"{self.shown}: {owner}: PermissionsBoundary")
        # Resolved like any attachment: the snapshot's document, else the shipped one, else an error.
        return self.managed_doc(arn, owner=owner, kind="boundary", via_group=None)

    def check_account(self, arn: str, owner: str) -> None:
        parts = arn.split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != "iam":
            raise InputError(f"{self.shown}: {owner}: Arn {arn!r} is not an IAM ARN.")
        account = parts[4]
        if is_account_id(account):
            if account != self.account_id:
                raise InputError(
                    f"{self.shown}: the snapshot belongs to account {account} ({arn}), "
                    f"but the config gives account {self.account_id}."
                )
        else:
            self.warnings.append(
                f"{self.shown}: {owner}: Arn {arn} has account '{account}' instead of a 12-digit account id "
                "(a sanitised export?); it is kept as written."
            )


def _identity_facts(record: Mapping, id_key: str, where: str) -> dict[str, Any]:
    """Tags and unique id of a user or role record. A record without Tags (exports older than IAM
    tagging) has unknown tags, not none: `tags_complete` says which."""
    facts: dict[str, Any] = {"unique_id": unique_id(record.get(id_key), f"{where}, {id_key}")}
    if "Tags" in record:
        facts["tags"] = tags_from_list(record["Tags"], f"{where}, Tags")
        facts["tags_complete"] = True
    return facts


def parse_snapshot(text: str, *, account_id: str, account_name: str, shown: str) -> Snapshot:
    """Parse snapshot text (the file's content); `shown` names the file in messages and locations."""
    data = _loads(text, shown)
    if not isinstance(data, Mapping):
        raise InputError(
            f"{shown}: the JSON is a {type(data).__name__}, not the output of aws iam get-account-authorization-details."
        )
    if not any(k in data for k in _KEYS) and any(k in data for k in _AIRIAM_KEYS):
        data = {_AIRIAM_KEYS.get(k, k): v for k, v in data.items()}
    if not any(k in data for k in _KEYS):
        raise InputError(
            f"{shown}: the JSON is not the output of aws iam get-account-authorization-details "
            "(no UserDetailList, GroupDetailList, RoleDetailList or Policies key)."
        )
    reader = _Reader(data, text, account_id=account_id, shown=shown)
    if data.get("IsTruncated") is True:
        reader.warnings.append(
            f"{shown}: the snapshot is one page of a paginated answer (IsTruncated is true); "
            "principals or policies on other pages are missing."
        )

    # Groups first: members take their policies.
    groups: dict[str, list[PolicyDocument]] = {}
    for i, g in enumerate(_objects(data, "GroupDetailList", shown)):
        name = _str(g, "GroupName", f"{shown}: GroupDetailList[{i}]")
        arn = _str(g, "Arn", f"{shown}: group {name}")
        owner = f"group {name}"
        reader.check_account(arn, owner)
        groups[name] = reader.inline(
            g, "GroupPolicyList", owner, "group-inline", arn, name
        ) + reader.attached(g, owner, "group-managed", name)

    principals: list[Principal] = []
    members: dict[str, list[str]] = {name: [] for name in groups}
    for i, u in enumerate(_objects(data, "UserDetailList", shown)):
        name = _str(u, "UserName", f"{shown}: UserDetailList[{i}]")
        arn = _str(u, "Arn", f"{shown}: user {name}")
        owner = f"user {name}"
        reader.check_account(arn, owner)
        group_names = _list(u, "GroupList", f"{shown}: {owner}")
        policies = reader.inline(u, "UserPolicyList", owner, "inline", arn, None) + reader.attached(
            u, owner, "managed", None
        )
        for gname in group_names:
            if gname not in groups:
                raise InputError(
                    f"{shown}: {owner} is in group {gname!r}, which the snapshot's GroupDetailList lacks."
                )
            policies.extend(groups[gname])
            members[gname].append(name)
        principals.append(
            Principal(
                arn=arn,
                name=name,
                type="user",
                account_id=account_id,
                path=u.get("Path") or "/",
                created=u.get("CreateDate"),
                policies=tuple(policies),
                boundary=reader.boundary(u, owner),
                groups=tuple(group_names),
                location=reader.loc(arn),
                **_identity_facts(u, "UserId", f"{shown}: {owner}"),
            )
        )

    for i, r in enumerate(_objects(data, "RoleDetailList", shown)):
        name = _str(r, "RoleName", f"{shown}: RoleDetailList[{i}]")
        arn = _str(r, "Arn", f"{shown}: role {name}")
        owner = f"role {name}"
        reader.check_account(arn, owner)
        policies = reader.inline(r, "RolePolicyList", owner, "inline", arn, None) + reader.attached(
            r, owner, "managed", None
        )
        trust = None
        if r.get("AssumeRolePolicyDocument") is not None:
            trust = parse_policy_document(
                r["AssumeRolePolicyDocument"],
                name="AssumeRolePolicyDocument",
                kind="trust",
                where=f"{shown}: {owner}, trust policy",
                location=reader.loc(arn),
            )
        principals.append(
            Principal(
                arn=arn,
                name=name,
                type="role",
                account_id=account_id,
                path=r.get("Path") or "/",
                created=r.get("CreateDate"),
                policies=tuple(policies),
                boundary=reader.boundary(r, owner),
                trust_policy=trust,
                role_last_used=_last_used(r, f"{shown}: {owner}"),
                location=reader.loc(arn),
                **_identity_facts(r, "RoleId", f"{shown}: {owner}"),
            )
        )

    principals.sort(key=lambda p: p.arn)
    for a, b in zip(principals, principals[1:], strict=False):
        if a.arn == b.arn:
            raise InputError(f"{shown}: principal {a.arn} appears twice in the snapshot.")
    inventory = Inventory(
        account_id=account_id,
        account_name=account_name,
        principals=tuple(principals),
        source=shown,
        groups={name: tuple(sorted(m)) for name, m in sorted(members.items())},
    )
    return Snapshot(inventory=inventory, warnings=tuple(reader.warnings) + reader.missing_aws_warnings())
