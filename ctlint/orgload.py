"""Reading an account's organisation policies (SCPs and RCPs) from files into `OrgPolicies`.

Two layouts (docs/organizations.md):
- `levels`: the levels above the account in order, root first and the account last, each with the files
  of the SCPs and RCPs attached there;
- `tree`: the root's folder, holding a folder per OU and, at the end of the account's path, a folder
  named by the account id; every folder holds the policies attached at that level.

A policy file holds the output of `aws organizations describe-policy` (`{"Policy": {"PolicySummary":
{...}, "Content": "<json>"}}`), a list of such outputs, a bare policy document, or a list of documents.
The output of `list-policies-for-target` (summaries without content) is refused with a hint. Every file
is bounded in size before it is parsed, and the tree walk in depth and breadth.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctlint.errors import InputError
from ctlint.limits import MAX_ORG_POLICY_BYTES, check_file_size, json_loads
from ctlint.model import OrgLevel, OrgPolicies, PolicyDocument, SourceLocation, Statement, is_account_id
from ctlint.policy import parse_policy_document

__all__ = ["OrgSource", "LevelFiles", "load_organization", "read_policy_file"]

# The root, at most five levels of OUs (the AWS Organizations quota), the account.
MAX_LEVELS = 7
MAX_POLICIES_PER_FILE = 1000
MAX_TREE_FOLDERS = 10_000
_TYPES = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}
_WHAT = {"scp": "service control policy", "rcp": "resource control policy"}


@dataclass(frozen=True)
class LevelFiles:
    name: str
    scps: tuple[Path, ...] = ()
    rcps: tuple[Path, ...] = ()


@dataclass(frozen=True)
class OrgSource:
    """The `organization` block of one account in the config, paths resolved."""

    shown: str  # e.g. "ctlint.yaml: accounts[0].organization", for messages
    management_account: bool = False
    levels: tuple[LevelFiles, ...] = ()
    tree: Path | None = None


Shown = Callable[[Path], str]


def load_organization(source: OrgSource, account_id: str, display_path: Shown = str) -> OrgPolicies:
    """The account's organisation policies. Raises InputError naming the file, policy or key."""
    if source.tree is not None:
        read = _tree_levels(source.tree, account_id, source.shown, display_path)
    else:
        if len(source.levels) > MAX_LEVELS:
            raise InputError(
                f"{source.shown}.levels: {len(source.levels)} levels; an account sits below the root and at "
                f"most five levels of OUs ({MAX_LEVELS} levels with the account itself)."
            )
        read = tuple(
            OrgLevel(
                name=level.name,
                scps=tuple(d for p in level.scps for d in read_policy_file(p, "scp", display_path(p))),
                rcps=tuple(d for p in level.rcps for d in read_policy_file(p, "rcp", display_path(p))),
            )
            for level in source.levels
        )
    with_scps = [level.name for level in read if level.scps]
    if with_scps and len(with_scps) != len(read):
        missing = ", ".join(level.name for level in read if not level.scps)
        raise InputError(
            f"{source.shown}: SCPs are given for {', '.join(with_scps)} but not for {missing}; AWS keeps at "
            "least one SCP attached at every level (FullAWSAccess unless replaced), so give the "
            "describe-policy output of each policy attached there."
        )
    return OrgPolicies(levels=read, management_account=source.management_account, source=source.shown)


# ---------------------------------------------------------------- one file


def read_policy_file(path: Path, kind: str | None, shown: str | None = None) -> tuple[PolicyDocument, ...]:
    """The policies in one file. `kind` ("scp" or "rcp") is what the file must hold; None: take it from
    each describe-policy output's PolicySummary.Type (bare documents then cannot be placed)."""
    where = shown or str(path)
    check_file_size(path, "organization_policy", where)
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_ORG_POLICY_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{where}: cannot read the policy file ({exc.strerror or exc}).") from None
    try:
        document = json_loads(content.decode("utf-8"), where, "the policy file")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{where}: not valid JSON ({exc}).") from None
    items = document if isinstance(document, list) else [document]
    if not items:
        raise InputError(f"{where}: an empty list; expected describe-policy outputs or policy documents.")
    if len(items) > MAX_POLICIES_PER_FILE:
        raise InputError(f"{where}: {len(items):,} entries, more than ctlint reads from one file.")
    location = SourceLocation(where, 1)
    return tuple(
        _one(item, kind, f"{where}: entry {index}" if isinstance(document, list) else where, location)
        for index, item in enumerate(items, start=1)
    )


def _one(item: Any, kind: str | None, where: str, location: SourceLocation) -> PolicyDocument:
    if not isinstance(item, Mapping):
        raise InputError(f"{where}: a JSON {type(item).__name__}, not a policy or describe-policy output.")
    if "Policies" in item:
        raise InputError(
            f"{where}: this is the output of `aws organizations list-policies-for-target` (policy summaries "
            "without their content); run `aws organizations describe-policy --policy-id ID` for each Id "
            "and give those outputs."
        )
    if "Policy" in item:
        return _described(item["Policy"], kind, where, location)
    if "Statement" in item:
        if kind is None:
            raise InputError(
                f"{where}: a bare policy document does not say whether it is an SCP or an RCP; name the "
                "file *.scp.json or *.rcp.json, or give the describe-policy output."
            )
        return _validated(
            parse_policy_document(item, name=where, kind=kind, where=where, location=location), where
        )
    raise InputError(
        f"{where}: expected the output of `aws organizations describe-policy` (a 'Policy' object) or a "
        "policy document (with a 'Statement')."
    )


def _described(policy: Any, kind: str | None, where: str, location: SourceLocation) -> PolicyDocument:
    summary = policy.get("PolicySummary") if isinstance(policy, Mapping) else None
    if not isinstance(summary, Mapping):
        raise InputError(f"{where}: Policy.PolicySummary is missing or not an object.")
    name, policy_id, policy_type = summary.get("Name"), summary.get("Id"), summary.get("Type")
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: Policy.PolicySummary.Name is missing or not a string.")
    here = f"{where}: policy {name!r}" + (f" ({policy_id})" if isinstance(policy_id, str) else "")
    found = _TYPES.get(policy_type) if isinstance(policy_type, str) else None
    if found is None:
        raise InputError(
            f"{here}: Policy.PolicySummary.Type is {policy_type!r}; ctlint reads SERVICE_CONTROL_POLICY "
            "and RESOURCE_CONTROL_POLICY."
        )
    if kind is not None and found != kind:
        raise InputError(f"{here}: is a {_WHAT[found]}, but the file is listed under '{kind}s'.")
    content = policy.get("Content")
    if not isinstance(content, str):
        raise InputError(f"{here}: Policy.Content must be the policy document as a JSON string.")
    return _validated(
        parse_policy_document(content, name=name, kind=found, where=here, location=location), here
    )


def _is_pass_through(stmt: Statement) -> bool:
    """RCPFullAWSAccess's one statement: Allow every action on every resource, unconditionally."""
    return (
        stmt.actions == ("*",)
        and stmt.not_actions is None
        and stmt.resources == ("*",)
        and stmt.not_resources is None
        and not stmt.has_condition
    )


def _validated(doc: PolicyDocument, where: str) -> PolicyDocument:
    """Refuse what AWS Organizations would refuse and ctlint would misread."""
    for index, stmt in enumerate(doc.statements, start=1):
        here = f"{where}: statement {index}" + (f" ({stmt.sid})" if stmt.sid else "")
        if doc.kind == "scp" and (stmt.principals or stmt.not_principals):
            raise InputError(f"{here}: an SCP statement cannot name a Principal (SCPs bind the account).")
        if doc.kind == "rcp" and stmt.effect == "Allow" and not _is_pass_through(stmt):
            raise InputError(
                f"{here}: an RCP can only Deny (its one Allow is RCPFullAWSAccess's, on every action and "
                "resource); ctlint cannot read this Allow."
            )
    return doc


# ---------------------------------------------------------------- the folder layout


def _tree_levels(root: Path, account_id: str, shown: str, display_path: Shown) -> tuple[OrgLevel, ...]:
    if not root.is_dir():
        raise InputError(f"{shown}.tree: {display_path(root)} is not a folder.")
    path = _find_account_folder(root, account_id, shown, display_path)
    folders = [root]
    for part in path.relative_to(root).parts:
        folders.append(folders[-1] / part)
    return tuple(_level(folder, root, display_path) for folder in folders)


def _find_account_folder(root: Path, account_id: str, shown: str, display_path: Shown) -> Path:
    """The one folder named `account_id` under `root`, at most six levels down, symlinks not followed."""
    found: list[Path] = []
    frontier, visited = [root], 0
    for _ in range(MAX_LEVELS - 1):
        below: list[Path] = []
        for folder in frontier:
            for entry in _entries(folder, display_path):
                if not entry.is_dir(follow_symlinks=False):
                    continue
                visited += 1
                if visited > MAX_TREE_FOLDERS:
                    raise InputError(
                        f"{shown}.tree: {display_path(root)} holds more than {MAX_TREE_FOLDERS:,} folders."
                    )
                child = Path(entry.path)
                if entry.name == account_id:
                    found.append(child)
                elif not is_account_id(entry.name):
                    below.append(child)  # an OU; another account's folder is a leaf
        frontier = below
    if len(found) != 1:
        where = "no folder" if not found else f"{len(found)} folders"
        raise InputError(
            f"{shown}.tree: {where} named {account_id} under {display_path(root)} (at most six levels "
            "down); the account's folder, holding the policies attached to it, must sit once at the end "
            "of its OU path."
        )
    return found[0]


def _entries(folder: Path, display_path: Shown) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        raise InputError(f"{display_path(folder)}: cannot list the folder ({exc.strerror or exc}).") from None


def _level(folder: Path, root: Path, display_path: Shown) -> OrgLevel:
    """A level's policies: the `*.json` files in the folder itself. describe-policy outputs say their
    type; bare documents are placed by the file name (`*.scp.json`, `*.rcp.json`)."""
    scps: list[PolicyDocument] = []
    rcps: list[PolicyDocument] = []
    for entry in _entries(folder, display_path):
        if not entry.name.endswith(".json") or entry.name.startswith(".") or not entry.is_file():
            continue
        path = Path(entry.path)
        named = (
            "scp" if entry.name.endswith(".scp.json") else "rcp" if entry.name.endswith(".rcp.json") else None
        )
        for doc in read_policy_file(path, named, display_path(path)):
            (rcps if doc.kind == "rcp" else scps).append(doc)
    name = root.name if folder == root else f"{root.name}/{folder.relative_to(root).as_posix()}"
    return OrgLevel(name=name, scps=tuple(scps), rcps=tuple(rcps))
