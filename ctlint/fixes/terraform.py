"""Edits of one statement in the Terraform source (.tf) behind a plan: where the plan says it came from.

A plan carries no .tf positions, so the statement is traced back: its line in the plan names a resource
(or data source) and the attribute holding the policy; `configuration.module_calls` lead to the module's
folder (local sources only, relative to the plan file's folder, which is the root module). There the one
block with that type and name must hold the policy as
- an `aws_iam_policy_document` data source: the statement's `statement { actions = [...] }` block;
- `policy = jsonencode({...})`: the statement's `Action` in the object literal;
- `policy = <<EOF ... EOF`: a heredoc of JSON without templates.
Anything else (a variable, `file()`, `templatefile()`, a `for` expression, `dynamic` blocks, merged
source documents, count/for_each instances that share one block, a module from a registry) gives no patch
and says why. After the edit, the file is read again: the statement must hold exactly the new list and
every other statement of the policy, and every block of the file, must read as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ctlint.errors import InputError
from ctlint.fixes.cloudformation import ResourceUnfixable, Unfixable
from ctlint.fixes.hcl import Block, HclError, Literal, Opaque, heredoc_body, literal_at, parse_hcl
from ctlint.fixes.layout import list_text
from ctlint.fixes.rewrite import ActionRewrite, rewrite_list
from ctlint.fixes.spans import json_spans, paths_at_line
from ctlint.fixes.textedit import apply_edits, span_edit
from ctlint.fixes.values import LineEdit
from ctlint.iac.lines import Located

Rewrite = Callable[[Sequence[str]], ActionRewrite]
_MERGED = ("source_policy_documents", "override_policy_documents", "source_json", "override_json")


@dataclass(frozen=True)
class PlanSite:
    """Where in the configuration a plan statement comes from."""

    modules: tuple[str, ...]  # module call names from the root, e.g. ("batch",)
    mode: str  # "managed" | "data"
    type: str
    name: str
    attribute: tuple[Any, ...]  # ("statement", i) | ("policy",) | ("inline_policy", k, "policy")
    statement_index: int  # 0-based index of the statement in the policy


def plan_site(located: Located, line: int, index: int) -> PlanSite:
    """The configuration site of the statement `index` (1-based) that the plan locates at `line`."""
    sites = []
    for path in paths_at_line(located, line):
        site = _site(located.value, path, index)
        if site is not None:
            sites.append(site)
    if len(sites) != 1:
        raise Unfixable(f"{located.source}:{line}: the plan names no single resource for this statement")
    return sites[0]


_VALUES_KEY = {"planned_values": "values", "prior_state": "values", "configuration": "expressions"}


def _site(plan: Any, path: tuple[Any, ...], index: int) -> PlanSite | None:
    """The site `path` (a value of the plan) names, if it is a statement or a policy attribute."""
    values_key = _VALUES_KEY.get(path[0]) if path else None
    resources = [i for i, key in enumerate(path) if key == "resources"]
    if values_key is None or not resources:
        return None
    r = resources[-1]
    if len(path) < r + 3 or path[r + 2] != values_key:
        return None
    attribute = tuple(path[r + 3 :])
    in_configuration = path[0] == "configuration"
    is_statement = attribute == ("statement", index - 1)
    is_policy = attribute == ("policy",) or (
        len(attribute) == 3 and attribute[0] == "inline_policy" and attribute[2] == "policy"
    )
    resource = _value_at(plan, path[: r + 2])
    if not isinstance(resource, Mapping) or not (is_statement or (is_policy and not in_configuration)):
        return None
    repeated = resource.get("index") is not None or any(
        key in resource for key in ("count_expression", "for_each_expression")
    )
    if repeated:
        raise Unfixable(
            f"{resource.get('address')} is repeated with count/for_each; one block serves every instance"
        )
    if in_configuration:
        modules = tuple(path[i + 1] for i, key in enumerate(path[:r]) if key == "module_calls")
    else:
        module = _value_at(plan, path[:r])
        address = str(module.get("address") or "") if isinstance(module, Mapping) else ""
        if "[" in address:
            raise Unfixable(f"{address} is a module instance of count/for_each; its blocks are shared")
        parts = address.split(".") if address else []
        modules = tuple(parts[i + 1] for i in range(len(parts) - 1) if parts[i] == "module")
    return PlanSite(
        modules=modules,
        mode=str(resource.get("mode", "managed")),
        type=str(resource.get("type")),
        name=str(resource.get("name")),
        attribute=attribute,
        statement_index=index - 1,
    )


def module_folder(plan: Any, plan_folder: str, modules: Sequence[str]) -> str:
    """The folder of the module `modules` (call names from the root), from local module sources."""
    folder = PurePosixPath(plan_folder)
    config: Any = (plan.get("configuration") or {}).get("root_module") or {}
    for name in modules:
        call = (config.get("module_calls") or {}).get(name) or {}
        source = call.get("source")
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            raise Unfixable(
                f"module {name} has no local source ({source!r}); ctlint edits local modules only"
            )
        folder = folder / source
        config = call.get("module") or {}
    normal = _normal(str(folder))
    if normal.startswith("..") or PurePosixPath(normal).is_absolute():
        # The plan is input from a pull request: never follow it out of the tree under review.
        raise Unfixable(f"module {'.'.join(modules)} is outside the working directory ({normal})")
    return normal


def _normal(path: str) -> str:
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part == "..":
            if not parts or parts[-1] == "..":
                parts.append(part)
            else:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts) or "."


@dataclass(frozen=True)
class TfEdit:
    path: str  # the .tf file
    edits: tuple[LineEdit, ...]
    rewrite: ActionRewrite
    after: str  # the file with the edit, checked
    resources: tuple[str, ...] | None = None  # the statement's new Resource list; None: unchanged


def edit_tf(
    files: Mapping[str, str],
    site: PlanSite,
    rewrite: Rewrite,
    *,
    verify: bool = True,
    resources: Sequence[str] | None = None,
    resources_before: Collection[str] = (),
) -> TfEdit:
    """The edit of the statement at `site` in the one .tf file of `files` that defines its block (with its
    Resource list made `resources` when given: the plan's statement held `resources_before`; raises
    ResourceUnfixable when only that part cannot be written)."""
    kind = "data" if site.mode == "data" else "resource"
    found = []
    for path, text in sorted(files.items()):
        for block in _blocks(text, path):
            if block.type == kind and block.labels == (site.type, site.name):
                found.append((path, text, block))
    what = f'{kind} "{site.type}" "{site.name}"'
    if len(found) != 1:
        raise Unfixable(
            f"{what} is defined {len(found)} times in {', '.join(sorted(files)) or 'no .tf file'}"
        )
    path, text, block = found[0]
    where = f"{path}: {what}"
    before = _reading(text, path, block, site, where)
    result = rewrite(before.patterns)
    if result.removes_statement:
        raise Unfixable(
            f"{where}: nothing of statement {site.statement_index + 1} would be left; ctlint does not "
            "delete Terraform statements, so remove it by hand"
        )
    replacement = _replacement(text, before, result)
    edit = span_edit(text, before.start, before.end, replacement)
    edits: tuple[LineEdit, ...] = (edit,)
    if resources is not None:
        edits += (_resource_edit(text, path, block, site, where, resources, resources_before, edit),)
    after = apply_edits(text, list(edits))
    if verify and resources is not None:
        verify_combined(text, after, path, [(site_target(site), result.actions, tuple(resources))])
    elif verify:  # callers that check several edits of one file together check them afterwards
        _verify(text, after, path, site, before, result, where)
    return TfEdit(path, edits, result, after, tuple(resources) if resources is not None else None)


def _resource_edit(
    text: str,
    path: str,
    block: Block,
    site: PlanSite,
    where: str,
    resources: Sequence[str],
    resources_before: Collection[str],
    action_edit: LineEdit,
) -> LineEdit:
    """The edit that makes the statement's Resource `resources` (raises ResourceUnfixable)."""
    template = next((r for r in resources if "${" in r or "%{" in r), None)
    if template is not None:  # an ARN from the logs: Terraform would read it as a template, not as written
        raise ResourceUnfixable(
            f"{where}: the resource {json.dumps(template)} would read as a Terraform template"
        )
    try:
        before = _reading(text, path, block, site, where, key="Resource")
    except Unfixable as exc:
        raise ResourceUnfixable(str(exc)) from None
    if not before.patterns or set(before.patterns) != set(resources_before):
        raise ResourceUnfixable(f"{where}: the Resource there is not the one the plan holds")
    edit = span_edit(
        text, before.start, before.end, _replacement(text, before, rewrite_list(before.patterns, resources))
    )
    if edit.first_line <= action_edit.last_line and action_edit.first_line <= edit.last_line:
        raise ResourceUnfixable(f"{where}: the Action and Resource values share a line")
    return edit


@dataclass(frozen=True)
class _Reading:
    """The statement's Action value as written: its span, its entries and their spans."""

    patterns: tuple[str, ...]
    start: int
    end: int
    item_spans: tuple[tuple[int, int], ...]
    scalar: bool
    quote: Callable[[str], str]
    # Everything else of the policy (without the Action of the statements at the given indices, and
    # without the Resource of those at the second, optional, indices), to compare before and after.
    others: Callable[..., Any]


def _blocks(text: str, path: str) -> list[Block]:
    try:
        return parse_hcl(text)
    except HclError as exc:
        raise Unfixable(f"{path}: {exc}") from None


def _reading(text: str, path: str, block: Block, site: PlanSite, where: str, key: str = "Action") -> _Reading:
    """The statement's Action value as written (its Resource value with key="Resource")."""
    if site.attribute[0] == "statement":
        return _document_statement(text, block, site.statement_index, where, key)
    holder = block
    if site.attribute[0] == "inline_policy":
        if any(b.type == "dynamic" for b in block.blocks):
            raise Unfixable(f"{where}: inline_policy blocks are made by a dynamic block")
        inline = block.children("inline_policy")
        if site.attribute[1] >= len(inline):
            raise Unfixable(f"{where}: no inline_policy block {site.attribute[1] + 1}")
        holder = inline[site.attribute[1]]
    policy = holder.attribute("policy")
    if policy is None:
        raise Unfixable(f"{where}: no policy attribute")
    value = text[policy.value_start : policy.value_end]
    if value.startswith("jsonencode(") and value.endswith(")"):
        return _jsonencode_statement(
            text, policy.value_start + len("jsonencode("), policy.value_end - 1, site, where, key
        )
    heredoc = heredoc_body(text, policy.value_start)
    if heredoc is not None:
        body_start, body_end, _indented = heredoc
        body = text[body_start:body_end]
        if "${" in body or "%{" in body:
            raise Unfixable(f"{where}: the heredoc policy holds a template (${{...}} or %{{...}})")
        return _heredoc_statement(text, body_start, body, site, where, key)
    raise Unfixable(
        f"{where}: the policy is {value[:60]!r}, not a literal jsonencode, heredoc or aws_iam_policy_document"
    )


def _document_statement(text: str, block: Block, index: int, where: str, key: str = "Action") -> _Reading:
    name = "actions" if key == "Action" else "resources"
    if any(b.type == "dynamic" for b in block.blocks):
        raise Unfixable(f"{where}: statements are made by a dynamic block")
    merged = [name for name in _MERGED if block.attribute(name) is not None]
    if merged:
        raise Unfixable(f"{where}: the document merges {', '.join(merged)}")
    statements = block.children("statement")
    if index >= len(statements):
        raise Unfixable(f"{where}: no statement block {index + 1}")
    statement = statements[index]
    if statement.attribute("not_actions") is not None:
        raise Unfixable(f"{where}: statement {index + 1} uses not_actions, which ctlint does not rewrite")
    actions = statement.attribute(name)
    if actions is None:
        raise Unfixable(f"{where}: statement {index + 1} has no {name} attribute")
    value = literal_at(text, actions.value_start, actions.value_end)
    items = _string_items(value, f"{where}: statement {index + 1} {name}")
    return _Reading(
        patterns=tuple(i.value for i in items),
        start=value.start,
        end=value.end,
        item_spans=tuple((i.start, i.end) for i in items),
        scalar=False,
        quote=json.dumps,
        others=lambda skip, skip_resources=(): _document_shape(text, block, skip, skip_resources),
    )


def _document_shape(
    text: str, block: Block, skip: Collection[int], skip_resources: Collection[int] = ()
) -> list[Any]:
    """Every statement block's attributes as literal values (the skipped ones without `actions`, and
    those of `skip_resources` without `resources`)."""
    shape = []
    for i, statement in enumerate(block.children("statement")):
        attrs = {
            a.name: _plain(literal_at(text, a.value_start, a.value_end))
            for a in statement.attributes
            if not (i in skip and a.name == "actions") and not (i in skip_resources and a.name == "resources")
        }
        shape.append((attrs, [(b.type, b.labels, text[b.start : b.end]) for b in statement.blocks]))
    return shape


def _jsonencode_statement(
    text: str, start: int, end: int, site: PlanSite, where: str, key: str = "Action"
) -> _Reading:
    policy = literal_at(text, start, end)
    statement = _statement_literal(policy, site.statement_index, where)
    if "NotAction" in statement.value:
        raise Unfixable(f"{where}: the statement uses NotAction, which ctlint does not rewrite")
    action = statement.value.get(key)
    if action is None:
        raise Unfixable(f"{where}: the statement has no {key}")
    scalar = isinstance(action.value, str)
    items = [action] if scalar else _string_items(action, f"{where}: {key}")
    if scalar and not action.quoted:
        raise Unfixable(f"{where}: the {key} is not a quoted string")
    return _Reading(
        patterns=tuple(i.value for i in items),
        start=action.start,
        end=action.end,
        item_spans=() if scalar else tuple((i.start, i.end) for i in items),
        scalar=scalar,
        quote=json.dumps,
        others=lambda skip, skip_resources=(): _without_action(policy.plain(), skip, skip_resources),
    )


def _heredoc_statement(
    text: str, body_start: int, body: str, site: PlanSite, where: str, key: str = "Action"
) -> _Reading:
    try:
        spans = json_spans(body, where)
        policy = json.loads(body)
    except (InputError, json.JSONDecodeError) as exc:
        raise Unfixable(f"{where}: the heredoc is not JSON ({exc})") from None
    statements: Any = policy.get("Statement") if isinstance(policy, dict) else None
    index = site.statement_index
    statement: Any
    if isinstance(statements, list) and index < len(statements):
        base: tuple[Any, ...] = ("Statement", index)
        statement = statements[index]
    elif isinstance(statements, dict) and index == 0:
        base, statement = ("Statement",), statements
    else:
        raise Unfixable(f"{where}: no statement {index + 1} in the heredoc")
    if not isinstance(statement, dict):
        raise Unfixable(f"{where}: statement {index + 1} in the heredoc is not an object")
    if "NotAction" in statement:
        raise Unfixable(f"{where}: the statement uses NotAction, which ctlint does not rewrite")
    action = statement.get(key)
    scalar = isinstance(action, str)
    patterns = [action] if scalar else action
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise Unfixable(f"{where}: the {key} is not a literal list of strings")
    start, end = spans[base + (key,)]
    item_spans = () if scalar else tuple(spans[base + (key, j)] for j in range(len(patterns)))
    return _Reading(
        patterns=tuple(patterns),
        start=body_start + start,
        end=body_start + end,
        item_spans=tuple((body_start + a, body_start + b) for a, b in item_spans),
        scalar=scalar,
        quote=json.dumps,
        others=lambda skip, skip_resources=(): _without_action(policy, skip, skip_resources),
    )


def _statement_literal(policy: Literal, index: int, where: str) -> Literal:
    if not isinstance(policy.value, dict) or "Statement" not in policy.value:
        raise Unfixable(f"{where}: jsonencode's argument is not a literal policy object")
    statements = policy.value["Statement"]
    if isinstance(statements.value, list) and index < len(statements.value):
        statement = statements.value[index]
    elif isinstance(statements.value, dict) and index == 0:
        statement = statements
    else:
        raise Unfixable(f"{where}: no literal statement {index + 1} (a variable or a for expression?)")
    if not isinstance(statement.value, dict):
        raise Unfixable(f"{where}: statement {index + 1} is not a literal object")
    return statement


def _string_items(value: Literal, what: str) -> list[Literal]:
    if not isinstance(value.value, list) or not all(
        isinstance(item.value, str) and item.quoted for item in value.value
    ):
        raise Unfixable(f"{what} is not a literal list of strings")
    return list(value.value)


def _without_action(policy: Any, skip: Collection[int], skip_resources: Collection[int] = ()) -> Any:
    out = json.loads(json.dumps(policy, default=repr))
    statements = out.get("Statement") if isinstance(out, dict) else None
    for keys, indices in (("Action",), skip), (("Resource",), skip_resources):
        for index in indices:
            if (
                isinstance(statements, list)
                and index < len(statements)
                and isinstance(statements[index], dict)
            ):
                statements[index].pop(keys[0], None)
            elif isinstance(statements, dict) and index == 0:
                statements.pop(keys[0], None)
    return out


def _replacement(text: str, before: _Reading, result: ActionRewrite) -> str:
    items: list[str] = []
    for (start, end), slot in zip(
        before.item_spans or ((before.start, before.end),), result.slots, strict=True
    ):
        items.extend([text[start:end]] if slot is None else [before.quote(a) for a in slot])
    if before.scalar and len(items) == 1:
        return items[0]
    return list_text(text, before.start, before.end, before.item_spans, items)


def _verify(
    text: str, after: str, path: str, site: PlanSite, before: _Reading, result: ActionRewrite, where: str
) -> None:
    kind = "data" if site.mode == "data" else "resource"
    old_blocks, new_blocks = _blocks(text, path), _blocks(after, path)
    if _shape(text, old_blocks) != _shape(after, new_blocks):
        raise Unfixable(f"{where}: the edited file would not keep its other blocks")
    block = next(b for b in new_blocks if b.type == kind and b.labels == (site.type, site.name))
    reread = _reading(after, path, block, site, where)
    skip = {site.statement_index}
    if reread.patterns != result.actions or _plain_others(reread.others(skip)) != _plain_others(
        before.others(skip)
    ):
        raise Unfixable(f"{where}: the edited file would not re-read to the intended statement")


def _shape(text: str, blocks: Sequence[Block]) -> list[Any]:
    return [(b.type, b.labels, [a.name for a in b.attributes], _shape(text, b.blocks)) for b in blocks]


def _plain(value: Literal) -> Any:
    plain = value.plain()
    return json.loads(json.dumps(plain, default=lambda o: o.text if isinstance(o, Opaque) else repr(o)))


def _plain_others(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=lambda o: o.text if isinstance(o, Opaque) else repr(o))


def _value_at(value: Any, path: Sequence[Any]) -> Any:
    for key in path:
        value = value[key]
    return value


def site_target(site: PlanSite) -> tuple[object, ...]:
    """A StatementFix.target for a .tf edit: enough to find the statement again in the edited file."""
    return ("terraform", site.modules, site.mode, site.type, site.name, site.attribute, site.statement_index)


def verify_combined(before: str, after: str, path: str, targets: Sequence[tuple[Any, ...]]) -> None:
    """Raise Unfixable unless `after` keeps every block of `before`, each (target, actions[, resources])
    reads so (resources None or absent: the Resource is not edited), and everything else of each edited
    policy reads as before."""
    old_blocks, new_blocks = _blocks(before, path), _blocks(after, path)
    if _shape(before, old_blocks) != _shape(after, new_blocks):
        raise Unfixable(f"{path}: the edited file would not keep its blocks")
    sites = []
    for target, actions, *narrowed in targets:
        _, modules, mode, rtype, name, attribute, index = target
        sites.append(
            (
                PlanSite(tuple(modules), str(mode), str(rtype), str(name), tuple(attribute), int(index)),
                actions,
                narrowed[0] if narrowed else None,
            )
        )
    for site, actions, resources in sites:
        kind = "data" if site.mode == "data" else "resource"
        old_block = next(b for b in old_blocks if b.type == kind and b.labels == (site.type, site.name))
        new_block = next(b for b in new_blocks if b.type == kind and b.labels == (site.type, site.name))
        skip = {
            other.statement_index
            for other, _, _ in sites
            if (
                other.mode,
                other.type,
                other.name,
                other.attribute[:-1] if other.attribute[0] == "statement" else other.attribute,
            )
            == (
                site.mode,
                site.type,
                site.name,
                site.attribute[:-1] if site.attribute[0] == "statement" else site.attribute,
            )
        }
        skip_resources = {
            other.statement_index
            for other, _, narrowed in sites
            if narrowed is not None and _policy_key(other) == _policy_key(site)
        }
        was, now = _reading(before, path, old_block, site, path), _reading(after, path, new_block, site, path)
        if now.patterns != tuple(actions) or _plain_others(now.others(skip, skip_resources)) != _plain_others(
            was.others(skip, skip_resources)
        ):
            raise Unfixable(f"{path}: the edited file would not re-read to the intended statements")
        if resources is not None:
            reread = _reading(after, path, new_block, site, path, key="Resource")
            if reread.patterns != tuple(resources):
                raise Unfixable(f"{path}: the edited file would not re-read to the intended resources")


def _policy_key(site: PlanSite) -> tuple[Any, ...]:
    """The policy a site's statement belongs to (statement sites of one document share it)."""
    attribute = site.attribute[:-1] if site.attribute[0] == "statement" else site.attribute
    return (site.mode, site.type, site.name, attribute)


def target_site(target: Sequence[Any]) -> PlanSite:
    """The PlanSite a StatementFix.target of `site_target` stands for."""
    _, modules, mode, rtype, name, attribute, index = target
    return PlanSite(tuple(modules), str(mode), str(rtype), str(name), tuple(attribute), int(index))
