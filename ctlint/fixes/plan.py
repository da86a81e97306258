"""From grouped findings to `StatementFix` values: which statements to rewrite, and how. Pure.

A statement is rewritten without the actions that *every* principal it grants to leaves unused: a
managed policy attached to two roles keeps what either of them uses. Only findings of the kinds in
`FIX_KINDS` at statements written in an IaC file are considered; suppressed (allowlisted) findings never
reach here, so allowlisted actions stay.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Protocol

from ctlint.fixes import cloudformation as cfn
from ctlint.fixes import terraform as tf
from ctlint.fixes.hcl import HclError
from ctlint.fixes.resources import ResourceChoice, UsedResources, narrow_resources
from ctlint.fixes.rewrite import ActionRewrite, Expand, rewrite_actions
from ctlint.fixes.textedit import EditConflict, apply_edits, edits_diff
from ctlint.fixes.values import StatementFix
from ctlint.iac.lines import Located
from ctlint.model import GroupedFinding, Principal, SourceLocation, Statement, StatementRef
from ctlint.policy import ActionUniverse

FIX_KINDS = frozenset({"new-grant-unused", "granted-unused"})
StatementKey = tuple[str, int, int]  # (file as shown, statement line, 1-based index in its policy)


class Sources(Protocol):
    """How the planner sees files (the caller does the reading)."""

    def read(self, path: str) -> str | None: ...  # the text, or None when it cannot be read

    def tf_files(self, folder: str) -> list[str]: ...  # the *.tf files of a folder, as paths to `read`


@dataclass(frozen=True)
class Holder:
    """An IaC statement and every principal it grants to."""

    statement: Statement
    principals: tuple[str, ...]


UNLINKED = "a principal whose name is generated at deployment"


def statement_holders(
    principals: Iterable[Principal],
    files: Iterable[str],
    unlinked: Collection[SourceLocation] = (),
) -> dict[StatementKey, Holder]:
    """The Allow statements written in `files`, by key, with the principals whose policies hold them.

    A managed policy is held by every principal it is attached to, in the IaC or only in the deployed
    snapshot; a statement `unlinked` principals also hold counts UNLINKED among its holders."""
    shown = set(files)
    everyone = list(principals)
    by_arn: dict[str, set[str]] = defaultdict(set)
    for principal in everyone:
        for doc in principal.policies:
            if doc.kind in ("managed", "group-managed"):
                by_arn[doc.name].add(principal.arn)
    found: dict[StatementKey, tuple[Statement, set[str]]] = {}
    for principal in everyone:
        for doc in principal.policies:
            for index, statement in enumerate(doc.statements, start=1):
                where = statement.location
                if statement.effect != "Allow" or where is None or where.path not in shown:
                    continue
                key = (where.path, where.line, index)
                holders = found.setdefault(key, (statement, set()))[1]
                holders.add(principal.arn)
                if doc.kind in ("managed", "group-managed"):
                    holders.update(by_arn[doc.name])
                if where in unlinked:
                    holders.add(UNLINKED)
    return {key: Holder(stmt, tuple(sorted(arns))) for key, (stmt, arns) in found.items()}


def plan_fixes(
    groups: Iterable[GroupedFinding],
    kinds: Mapping[str, str],
    holders: Mapping[StatementKey, Holder],
    sources: Sources,
    expand: Expand,
    resources: UsedResources | None = None,
    universe: ActionUniverse | None = None,
) -> tuple[StatementFix, ...]:
    """One StatementFix per flagged IaC statement, sorted by file and line.

    `kinds` maps rule ids to kinds; `sources` reads the files as they are now (the plan's .tf files too).
    With `resources` (the usage's, `ctlint fix`) and the `universe`, a patch also narrows the Resource
    list where `ctlint.fixes.resources` can; without, Resource lines are left as written.
    """
    flagged: dict[StatementKey, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    refs: dict[StatementKey, StatementRef] = {}
    fingerprints: dict[StatementKey, list[str]] = defaultdict(list)
    for group in groups:
        ref = group.statement
        if kinds.get(group.rule) not in FIX_KINDS or ref is None or ref.location is None:
            continue
        key = (ref.location.path, ref.location.line, ref.index)
        if key not in holders:
            continue  # not written in an IaC file (the snapshot, ctlint's AWS managed policies)
        flagged[key][group.principal].update(group.actions)
        refs.setdefault(key, ref)
        fingerprints[key].append(group.fingerprint)
    sources = _Memo(sources)
    fixes = []
    for key in sorted(flagged):
        holder = holders[key]
        per_principal = flagged[key]
        common = set.intersection(*(per_principal.get(arn, set()) for arn in holder.principals))
        fix = _fix(
            key, refs[key], holder, common, per_principal, sorted(set(fingerprints[key])), sources, expand
        )
        if resources is not None and universe is not None and fix.edits:
            fix = _with_resources(
                fix,
                holder,
                sources,
                functools.partial(_rewrite, frozenset(common), expand),
                resources,
                universe,
                expand,
            )
        fixes.append(fix)
    return _checked(fixes, sources)


def _rewrite(flagged: Collection[str], expand: Expand, patterns: Sequence[str]) -> ActionRewrite:
    return rewrite_actions(patterns, flagged, expand)


def _with_resources(
    fix: StatementFix,
    holder: Holder,
    sources: Sources,
    rewrite: Callable[[Sequence[str]], ActionRewrite],
    used: UsedResources,
    universe: ActionUniverse,
    expand: Expand,
) -> StatementFix:
    """The Action-only `fix` made again with the Resource list narrowed, or with a note why not."""
    choice = narrow_resources(holder.statement, fix.actions, holder.principals, used, universe, expand)
    if choice.resources is None:
        return replace(fix, resource_note=choice.note)
    try:
        narrowed = _narrowed_edit(fix, holder.statement, choice, sources, rewrite)
    except cfn.ResourceUnfixable as exc:
        return replace(fix, resource_note=f"Resource left as written: {str(exc).rstrip('.')}.")
    except (cfn.Unfixable, HclError):
        return fix  # the Action-only patch was made from the same text: keep it
    return narrowed


def _narrowed_edit(
    fix: StatementFix,
    statement: Statement,
    choice: ResourceChoice,
    sources: Sources,
    same: Callable[[Sequence[str]], ActionRewrite],
) -> StatementFix:
    """`fix` with its edits made again, the Resource included (raises cfn.Unfixable)."""
    resources = choice.resources or ()
    if fix.target[:1] == ("terraform",):
        site = tf.target_site(fix.target)
        text = sources.read(fix.path)
        if text is None:
            raise cfn.Unfixable(f"{fix.path} cannot be read now")
        tf_edit = tf.edit_tf(
            {fix.path: text},
            site,
            same,
            verify=False,
            resources=resources,
            resources_before=statement.resources,
        )
        return replace(fix, edits=tf_edit.edits, resources=resources, written_resource=resources)
    text = sources.read(fix.path)
    if text is None:
        raise cfn.Unfixable(f"{fix.path} cannot be read now")
    located = cfn.read_template(text, fix.path)
    _rewrite, edit = cfn.edit_statement(text, located, tuple(fix.target), same, resources)
    return replace(fix, edits=edit.edits, resources=resources, written_resource=edit.resource)


def _checked(fixes: Sequence[StatementFix], sources: Sources) -> tuple[StatementFix, ...]:
    """Every patch re-read and checked: all of one file together, and one by one only when that fails
    (to find the patch at fault); each patch then gets its own diff."""
    by_file: dict[str, list[StatementFix]] = defaultdict(list)
    for fix in fixes:
        if fix.edits:
            by_file[fix.path].append(fix)
    failed: dict[int, str] = {}
    for path, patched in by_file.items():
        text = sources.read(path)
        try:
            if text is None:
                raise cfn.Unfixable(f"{path} cannot be read now")
            apply_file_fixes(path, text, patched)
            continue
        except cfn.Unfixable:
            pass
        for fix in patched:
            try:
                if text is None:
                    raise cfn.Unfixable(f"{path} cannot be read now")
                apply_file_fixes(path, text, [fix])
            except cfn.Unfixable as exc:
                failed[id(fix)] = str(exc)
    out = []
    for fix in fixes:
        if id(fix) in failed:
            out.append(_without(replace(fix, edits=(), target=(), written=None), failed[id(fix)]))
        elif fix.edits:
            out.append(replace(fix, diff=edits_diff(fix.path, sources.read(fix.path) or "", fix.edits)))
        else:
            out.append(fix)
    return tuple(out)


class _Memo:
    """Each file read once per planning run."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.texts: dict[str, str | None] = {}
        self.folders: dict[str, list[str]] = {}

    def read(self, path: str) -> str | None:
        if path not in self.texts:
            self.texts[path] = self.sources.read(path)
        return self.texts[path]

    def tf_files(self, folder: str) -> list[str]:
        if folder not in self.folders:
            self.folders[folder] = self.sources.tf_files(folder)
        return self.folders[folder]


def _fix(
    key: StatementKey,
    ref: StatementRef,
    holder: Holder,
    common: set[str],
    per_principal: Mapping[str, set[str]],
    fingerprints: Sequence[str],
    sources: Sources,
    expand: Expand,
) -> StatementFix:
    path, line, index = key
    statement = holder.statement
    base = StatementFix(
        path=path,
        line=line,
        statement=ref,
        principals=holder.principals,
        fingerprints=tuple(fingerprints),
        removed=(),
        actions=statement.actions,
    )
    if statement.not_actions is not None:
        return _without(base, "the statement uses NotAction, which ctlint does not rewrite")
    suggested = rewrite_actions(statement.actions, common, expand)
    base = _replace(base, removed=suggested.removed, actions=suggested.actions)
    if not common:
        keeping = [arn for arn in holder.principals if not per_principal.get(arn)]
        return _without(
            base,
            "the statement also grants to " + ", ".join(keeping) + ", for which no action of it is flagged",
        )
    text = sources.read(path)
    if text is None:
        return _without(base, f"{path} cannot be read now")
    try:
        located = cfn.read_template(text, path)
        root = located.value
        if isinstance(root, Mapping) and ("planned_values" in root or "prior_state" in root):
            return _terraform_fix(base, located, statement, common, sources, expand)
        target = cfn.find_statement(located, line, index)
        rewrite, edit = cfn.edit_statement(
            text, located, target, lambda patterns: rewrite_actions(patterns, common, expand)
        )
        if tuple(rewrite.patterns) != statement.actions:
            raise cfn.Unfixable(f"{path}:{line}: the statement no longer reads as it did")
    except (cfn.Unfixable, HclError) as exc:
        return _without(base, str(exc))
    return _replace(  # checked by _checked, with the file's other patches
        base,
        removed=rewrite.removed,
        actions=rewrite.actions,
        edits=edit.edits,
        target=target,
        written=edit.action,
    )


def _terraform_fix(
    base: StatementFix,
    plan: Located,
    statement: Statement,
    common: set[str],
    sources: Sources,
    expand: Expand,
) -> StatementFix:
    """The fix in the .tf source behind a plan statement (raises cfn.Unfixable)."""
    site = tf.plan_site(plan, base.line, base.statement.index)
    folder = tf.module_folder(plan.value, str(PurePosixPath(base.path).parent), site.modules)
    files = {name: text for name in sources.tf_files(folder) if (text := sources.read(name)) is not None}
    if not files:
        raise cfn.Unfixable(
            f"no .tf file in {folder} (ctlint takes the plan file's folder for the root module's; "
            "write plan.json there)"
        )
    edit = tf.edit_tf(files, site, lambda patterns: rewrite_actions(patterns, common, expand), verify=False)
    if set(edit.rewrite.patterns) != set(statement.actions):
        raise cfn.Unfixable(f"{edit.path}: the statement there is not the one the plan holds")
    return _replace(
        base,
        path=edit.path,
        line=edit.edits[0].first_line,
        removed=edit.rewrite.removed,
        actions=edit.rewrite.actions,
        edits=edit.edits,
        target=tf.site_target(site),
        written=edit.rewrite.actions,
    )


def apply_file_fixes(path: str, text: str, fixes: Sequence[StatementFix]) -> str:
    """`text` with every fix of one file applied, re-read and checked together (raises cfn.Unfixable)."""
    if any(f.target[:1] == ("terraform",) for f in fixes):
        try:
            after = apply_edits(text, [e for f in fixes for e in f.edits])
        except EditConflict as exc:
            raise cfn.Unfixable(f"{path}: {exc}") from None
        try:
            tf.verify_combined(
                text, after, path, [(f.target, f.written, f.resources) for f in fixes if f.edits]
            )
        except HclError as exc:
            raise cfn.Unfixable(f"{path}: {exc}") from None
        return after
    located = cfn.read_template(text, path)
    edits = [
        cfn.StatementEdit(
            tuple(f.target), f.edits, f.written, remove=f.removes_statement, resource=f.written_resource
        )
        for f in fixes
        if f.edits
    ]
    for edit in edits:
        cfn.find_statement(located, located.line(edit.path), _index_of(edit.path))
    return cfn.apply_and_verify(text, located, edits)


def _index_of(path: tuple[object, ...]) -> int:
    last = path[-1]
    return last + 1 if isinstance(last, int) else 1


def _without(fix: StatementFix, reason: str) -> StatementFix:
    return _replace(fix, reason=reason + ".")


def _replace(fix: StatementFix, **changes: object) -> StatementFix:
    return replace(fix, **changes)  # type: ignore[arg-type]
