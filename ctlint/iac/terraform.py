"""Terraform plan JSON (`terraform show -json plan.out`) -> principal drafts.

The plan's `planned_values` are the proposed state. Values known only after apply are absent there
(flagged in `resource_changes[].change.after_unknown`); for those, `configuration` tells which resource
an expression references, which is how an attachment finds its role or a role policy its
`aws_iam_policy_document`. Lines are lines of the plan file (it carries no .tf positions).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ctlint.errors import InputError
from ctlint.iac.build import Draft, Parsed, normalize_path, policy_arn
from ctlint.iac.documents import LineAt, LocatedDocument, build_document
from ctlint.iac.lines import Located
from ctlint.iac.principalfacts import terraform_facts
from ctlint.model import SourceLocation

_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class _Instance:
    address: str  # e.g. module.net.aws_iam_role.app["a"]
    module: str  # e.g. module.net (instance keys removed), "" for the root module
    mode: str  # managed | data
    type: str
    name: str
    index: Any
    values: Mapping[str, Any]
    path: tuple[Any, ...]  # where the resource object sits in the plan document
    unknown: Mapping[str, Any]  # after_unknown of its change

    @property
    def config_key(self) -> tuple[str, str]:
        prefix = "data." if self.mode == "data" else ""
        return self.module, f"{prefix}{self.type}.{self.name}"


class _Plan:
    def __init__(self, located: Located, account_id: str) -> None:
        self.doc = located
        self.account_id = account_id
        root = located.value
        if not isinstance(root, Mapping) or "planned_values" not in root and "prior_state" not in root:
            raise InputError(
                f"{located.source}: not a Terraform plan in JSON (no planned_values); "
                "produce it with `terraform show -json plan.out`."
            )
        unknown = {
            rc.get("address"): (rc.get("change") or {}).get("after_unknown") or {}
            for rc in root.get("resource_changes") or []
            if isinstance(rc, Mapping)
        }
        self.instances: list[_Instance] = []
        seen: set[str] = set()
        planned = (root.get("planned_values") or {}).get("root_module")
        self._walk(planned, ("planned_values", "root_module"), unknown, seen)
        prior = ((root.get("prior_state") or {}).get("values") or {}).get("root_module")
        # Data sources read at plan time live in prior_state; managed resources there are the old state.
        self._walk(prior, ("prior_state", "values", "root_module"), unknown, seen, only_data=True)
        self.config: dict[tuple[str, str], tuple[Mapping[str, Any], tuple[Any, ...]]] = {}
        self._walk_config(
            (root.get("configuration") or {}).get("root_module"), "", ("configuration", "root_module")
        )
        self.data_by_json: dict[str, _Instance] = {}
        for inst in self.instances:
            if inst.mode == "data" and inst.type == "aws_iam_policy_document":
                text = inst.values.get("json")
                if isinstance(text, str):
                    try:
                        self.data_by_json.setdefault(_canonical(json.loads(text)), inst)
                    except json.JSONDecodeError:
                        continue

    def _walk(self, module: Any, path: tuple, unknown: Mapping, seen: set, only_data: bool = False) -> None:
        if not isinstance(module, Mapping):
            return
        module_key = _INDEX.sub("", module.get("address") or "")
        for i, res in enumerate(module.get("resources") or []):
            if not isinstance(res, Mapping) or res.get("address") in seen:
                continue
            mode = res.get("mode", "managed")
            if only_data and mode != "data":
                continue
            seen.add(res.get("address"))
            self.instances.append(
                _Instance(
                    address=str(res.get("address")),
                    module=module_key,
                    mode=mode,
                    type=str(res.get("type")),
                    name=str(res.get("name")),
                    index=res.get("index"),
                    values=res.get("values") or {},
                    path=(*path, "resources", i),
                    unknown=unknown.get(res.get("address")) or {},
                )
            )
        for i, child in enumerate(module.get("child_modules") or []):
            self._walk(child, (*path, "child_modules", i), unknown, seen, only_data)

    def _walk_config(self, module: Any, prefix: str, path: tuple) -> None:
        if not isinstance(module, Mapping):
            return
        for i, res in enumerate(module.get("resources") or []):
            if isinstance(res, Mapping) and "address" in res:
                self.config[(prefix, res["address"])] = (
                    res.get("expressions") or {},
                    (*path, "resources", i),
                )
        for name, call in (module.get("module_calls") or {}).items():
            child_prefix = f"{prefix}.module.{name}" if prefix else f"module.{name}"
            self._walk_config(
                (call or {}).get("module"), child_prefix, (*path, "module_calls", name, "module")
            )

    # ------------------------------------------------------------ helpers

    def loc(self, path: tuple) -> SourceLocation:
        return SourceLocation(self.doc.source, self.doc.line(path))

    def referenced(self, inst: _Instance, attr: str, types: tuple[str, ...]) -> list[_Instance]:
        """Instances of `types` that the configuration expression `attr` of `inst` references."""
        expressions, _ = self.config.get(inst.config_key, ({}, ()))
        refs = (
            (expressions.get(attr) or {}).get("references") or [] if isinstance(expressions, Mapping) else []
        )
        for ref in refs:
            parts = ref.split(".")
            mode_offset = 1 if parts[0] == "data" else 0
            if len(parts) < 2 + mode_offset:
                continue
            key = ".".join(parts[: 2 + mode_offset])
            key = _INDEX.sub("", key)
            found = [
                other
                for other in self.instances
                if other.module == inst.module and other.config_key[1] == key and other.type in types
            ]
            if len(found) > 1:
                # count/for_each on both sides: pair instances with the same key (each.key, count.index).
                same = [other for other in found if other.index == inst.index]
                found = same if len(same) == 1 else found
            if found:
                return found
        return []

    def principal_name(self, inst: _Instance, attr: str, kind: str) -> str | None:
        """The user/role/group name an attachment or inline policy targets."""
        value = inst.values.get(attr)
        if isinstance(value, str) and value:
            return value
        targets = self.referenced(inst, attr, (f"aws_iam_{kind}",))
        if len(targets) == 1 and isinstance(targets[0].values.get("name"), str):
            return targets[0].values["name"]
        return None

    def names_list(self, inst: _Instance, attr: str, kind: str) -> list[str] | None:
        value = inst.values.get(attr)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        targets = self.referenced(inst, attr, (f"aws_iam_{kind}",))
        names = [t.values.get("name") for t in targets]
        strings = [n for n in names if isinstance(n, str)]
        if targets and len(strings) == len(names):
            return strings
        return None

    def managed_arn(self, inst: _Instance) -> str | None:
        value = inst.values.get("policy_arn")
        if isinstance(value, str) and value:
            return value
        targets = self.referenced(inst, "policy_arn", ("aws_iam_policy",))
        return self.policy_arn_of(targets[0]) if len(targets) == 1 else None

    def policy_arn_of(self, inst: _Instance) -> str:
        values = inst.values
        if isinstance(values.get("arn"), str):
            return values["arn"]
        if isinstance(values.get("name"), str):
            return policy_arn(self.account_id, values.get("path") or "/", values["name"])
        # Generated name: the ARN is unknowable, but the grants are not; key it by address.
        return f"arn:aws:iam::{self.account_id}:policy/<{inst.address}>"

    def document(self, inst: _Instance, attr_path: tuple, *, name: str, kind: str) -> LocatedDocument | None:
        """The policy at `attr_path` inside `inst.values`, with lines; None when unknown until apply."""
        raw: Any = inst.values
        for key in attr_path:
            raw = (
                raw[key]
                if isinstance(raw, Mapping | list)
                and (key in raw if isinstance(raw, Mapping) else key < len(raw))
                else None
            )
        where = f"{self.doc.source}: {inst.address}"
        plan_path = (*inst.path, "values", *attr_path)
        if isinstance(raw, str | Mapping) and raw != "":
            line_at = self._policy_lines(raw, plan_path)
            return build_document(
                raw, name=name, kind=kind, where=where, path=self.doc.source, line_at=line_at
            )
        if len(attr_path) == 1:
            for data in self.referenced(inst, attr_path[0], ("aws_iam_policy_document",)):
                if isinstance(data.values.get("json"), str):
                    return build_document(
                        data.values["json"],
                        name=name,
                        kind=kind,
                        where=where,
                        path=self.doc.source,
                        line_at=self._data_lines(data, data.values["json"]),
                    )
            # A data source read only at apply time: rebuild it from constant values in the configuration.
            for key in self.data_references(inst, attr_path[0]):
                built = self._from_config(key)
                if built is not None:
                    raw_doc, line_at = built
                    return build_document(
                        raw_doc, name=name, kind=kind, where=where, path=self.doc.source, line_at=line_at
                    )
        return None

    def data_references(self, inst: _Instance, attr: str) -> list[tuple[str, str]]:
        expressions, _ = self.config.get(inst.config_key, ({}, ()))
        refs = (
            (expressions.get(attr) or {}).get("references") or [] if isinstance(expressions, Mapping) else []
        )
        keys = []
        for ref in refs:
            parts = _INDEX.sub("", ref).split(".")
            if len(parts) >= 3 and parts[0] == "data" and parts[1] == "aws_iam_policy_document":
                key = (inst.module, ".".join(parts[:3]))
                if key not in keys:
                    keys.append(key)
        return keys

    def _policy_lines(self, raw: Any, plan_path: tuple) -> LineAt:
        line = self.doc.line(plan_path)
        if isinstance(raw, str):
            try:
                data = self.data_by_json.get(_canonical(json.loads(raw)))
            except json.JSONDecodeError:
                data = None
            if data is not None:
                # The string came from an aws_iam_policy_document: point at its statement blocks.
                return self._data_lines(data, raw)
            return lambda _path: line
        return lambda path: self.doc.line((*plan_path, *path))

    def _data_lines(self, data: _Instance, text: str) -> LineAt:
        statements = data.values.get("statement") or []
        fallback = self.doc.line(data.path)

        def line_at(path: tuple) -> int:
            if len(path) < 2 or not isinstance(path[1], int) or path[1] >= len(statements):
                return fallback
            block = (*data.path, "values", "statement", path[1])
            if len(path) >= 3:
                attr = {"Action": "actions", "NotAction": "not_actions"}.get(path[2])
                written = _statement_value(text, path)
                values = statements[path[1]].get(attr) or [] if attr else []
                if written in values:
                    return self.doc.line((*block, attr, values.index(written)))
            return self.doc.line(block)

        return line_at

    def _from_config(self, config_key: tuple[str, str]) -> tuple[dict, LineAt] | None:
        """Rebuild an unread aws_iam_policy_document from constant values in the configuration."""
        expressions, cpath = self.config.get(config_key, ({}, ()))
        blocks = expressions.get("statement") if isinstance(expressions, Mapping) else None
        if not isinstance(blocks, list):
            return None
        statements = []
        for block in blocks:
            stmt: dict[str, Any] = {}
            for attr, key in (
                ("effect", "Effect"),
                ("sid", "Sid"),
                ("actions", "Action"),
                ("not_actions", "NotAction"),
                ("resources", "Resource"),
                ("not_resources", "NotResource"),
            ):
                expr = block.get(attr)
                if expr is None:
                    continue
                if "constant_value" not in expr:
                    if attr in ("actions", "not_actions", "effect"):
                        return None
                    stmt[key] = "*"  # resource scoping does not change the granted actions
                    continue
                stmt[key] = expr["constant_value"]
            stmt.setdefault("Effect", "Allow")
            if block.get("condition"):
                stmt["Condition"] = {"Unknown": {"from-configuration": "true"}}
            statements.append(stmt)

        def line_at(path: tuple) -> int:
            if len(path) >= 2 and isinstance(path[1], int):
                block = (*cpath, "expressions", "statement", path[1])
                if len(path) >= 4:
                    attr = {"Action": "actions", "NotAction": "not_actions"}.get(path[2])
                    if attr:
                        return self.doc.line((*block, attr, "constant_value", path[3]))
                return self.doc.line(block)
            return self.doc.line(cpath)

        return {"Version": "2012-10-17", "Statement": statements}, line_at


def _canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _statement_value(text: str, path: tuple) -> Any:
    """The value at `path` in the policy JSON `text` (None when absent)."""
    try:
        value: Any = json.loads(text)
        for key in path:
            value = value[key]
        return value
    except (KeyError, IndexError, TypeError, json.JSONDecodeError):
        return None


_PRINCIPALS = {"aws_iam_role": "role", "aws_iam_user": "user", "aws_iam_group": "group"}
_INLINE = {"aws_iam_role_policy": "role", "aws_iam_user_policy": "user", "aws_iam_group_policy": "group"}
_ATTACH = {
    "aws_iam_role_policy_attachment": "role",
    "aws_iam_user_policy_attachment": "user",
    "aws_iam_group_policy_attachment": "group",
}


def parse_plan(located: Located, *, account_id: str) -> Parsed:
    """Read a Terraform plan (already parsed with lines) into drafts, attachments and memberships."""
    plan = _Plan(located, account_id)
    out = Parsed()
    for inst in plan.instances:
        if inst.mode != "managed":
            continue
        where = plan.loc((*inst.path, "address"))
        if inst.type in _PRINCIPALS:
            _principal(plan, inst, _PRINCIPALS[inst.type], where, out)
        elif inst.type == "aws_iam_policy":
            defined_arn = plan.policy_arn_of(inst)  # not `arn`: that is str | None in the branches below
            doc = plan.document(inst, ("policy",), name=defined_arn, kind="managed")
            if doc is None:
                out.unresolved.append((f"{inst.address}: policy document known only after apply", where))
            else:
                out.policies[defined_arn] = doc
                _note_unresolved(out, doc, where)
        elif inst.type in _INLINE:
            kind = _INLINE[inst.type]
            target = plan.principal_name(inst, kind, kind)
            raw_name = inst.values.get("name")
            name = raw_name if isinstance(raw_name, str) else inst.address
            doc = plan.document(inst, ("policy",), name=name, kind="inline")
            if target is None or doc is None:
                missing = f"{kind} name" if target is None else "policy document"
                out.unresolved.append((f"{inst.address}: {missing} known only after apply", where))
                continue
            out.inline.append((kind, target, doc))
            _note_unresolved(out, doc, where)
        elif inst.type in _ATTACH:
            kind = _ATTACH[inst.type]
            target = plan.principal_name(inst, kind, kind)
            arn = plan.managed_arn(inst)
            if target is None or arn is None:
                missing = f"{kind} name" if target is None else "policy ARN"
                out.unresolved.append((f"{inst.address}: {missing} known only after apply", where))
                continue
            out.attachments.append((kind, target, arn, plan.loc((*inst.path, "values", "policy_arn"))))
        elif inst.type == "aws_iam_policy_attachment":
            arn = plan.managed_arn(inst)
            if arn is None:
                out.unresolved.append((f"{inst.address}: policy ARN known only after apply", where))
                continue
            for kind, attr in (("user", "users"), ("role", "roles"), ("group", "groups")):
                names = plan.names_list(inst, attr, kind)
                if names is None:
                    out.unresolved.append((f"{inst.address}: {attr} known only after apply", where))
                    continue
                for name in names:
                    out.attachments.append((kind, name, arn, where))
        elif inst.type == "aws_iam_user_group_membership":
            user = plan.principal_name(inst, "user", "user")
            groups = plan.names_list(inst, "groups", "group")
            if user is None or groups is None:
                out.unresolved.append((f"{inst.address}: user or groups known only after apply", where))
                continue
            out.memberships.extend((user, group) for group in groups)
        elif inst.type == "aws_iam_group_membership":
            group = plan.principal_name(inst, "group", "group")
            users = plan.names_list(inst, "users", "user")
            if group is None or users is None:
                out.unresolved.append((f"{inst.address}: group or users known only after apply", where))
                continue
            out.memberships.extend((user, group) for user in users)
    return out


def _note_unresolved(out: Parsed, doc: LocatedDocument, where: SourceLocation) -> None:
    out.unresolved.extend((text, where) for text in doc.unresolved)


def _principal(plan: _Plan, inst: _Instance, kind: str, where: SourceLocation, out: Parsed) -> None:
    values = inst.values
    name = values.get("name") if isinstance(values.get("name"), str) and values.get("name") else None
    draft = Draft(
        kind=kind,
        key=inst.address,
        name=name,
        location=where,
        origin="terraform",
        path=normalize_path(values.get("path")),
        **terraform_facts(values, inst.unknown, f"{plan.doc.source}: {inst.address}"),
    )
    if name is None:
        out.unlinked.append((inst.address, where, kind))
    if kind == "role":
        trust = plan.document(inst, ("assume_role_policy",), name="trust", kind="trust")
        draft.trust = trust
        for i, block in enumerate(values.get("inline_policy") or []):
            if not isinstance(block, Mapping) or not block.get("policy"):
                continue  # the provider's empty placeholder block
            doc = plan.document(
                inst, ("inline_policy", i, "policy"), name=str(block.get("name") or i), kind="inline"
            )
            if doc is not None:
                draft.inline.append(doc)
                _note_unresolved(out, doc, where)
        arns = values.get("managed_policy_arns")
        if isinstance(arns, list):
            for i, arn in enumerate(arns):
                if isinstance(arn, str):
                    draft.managed.append((arn, plan.loc((*inst.path, "values", "managed_policy_arns", i))))
        elif inst.unknown.get("managed_policy_arns") is True:
            for target in plan.referenced(inst, "managed_policy_arns", ("aws_iam_policy",)):
                draft.managed.append((plan.policy_arn_of(target), where))
    boundary = values.get("permissions_boundary")
    if isinstance(boundary, str) and boundary:
        draft.boundary = (boundary, plan.loc((*inst.path, "values", "permissions_boundary")))
    out.drafts.append(draft)
