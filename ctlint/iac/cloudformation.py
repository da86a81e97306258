"""CloudFormation templates (JSON or YAML with short-form tags) -> principal drafts.

Intrinsic functions in names and ARNs are resolved where the template alone decides them
(AWS::AccountId from the config, AWS::Partition, parameter defaults, Ref/GetAtt of IAM resources whose
names are written in the template, Fn::Sub, Fn::Join, Fn::Select); anything else is reported as
unresolved rather than guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ctlint.errors import InputError
from ctlint.iac.build import Draft, Parsed, normalize_path, policy_arn, principal_arn
from ctlint.iac.documents import LocatedDocument, build_document
from ctlint.iac.lines import Located
from ctlint.iac.principalfacts import cloudformation_facts
from ctlint.model import SourceLocation

_SUB = re.compile(r"\$\{([^}]*)\}")
_PRINCIPAL_TYPES = {
    "AWS::IAM::Role": ("role", "RoleName"),
    "AWS::IAM::User": ("user", "UserName"),
    "AWS::IAM::Group": ("group", "GroupName"),
}
_INLINE_TYPES = {
    "AWS::IAM::RolePolicy": ("role", "RoleName"),
    "AWS::IAM::UserPolicy": ("user", "UserName"),
    "AWS::IAM::GroupPolicy": ("group", "GroupName"),
}
_PSEUDO = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


class Unresolved(Exception):
    """A value that depends on the deployed stack (a region, a condition, a generated name, ...)."""


class _Template:
    def __init__(self, located: Located, account_id: str) -> None:
        root = located.value
        resources = root.get("Resources") if isinstance(root, Mapping) else None
        if not isinstance(resources, Mapping):
            raise InputError(f"{located.source}: not a CloudFormation template (no Resources mapping).")
        self.doc = located
        self.account_id = account_id
        self.resources: Mapping[str, Any] = resources
        self.parameters: Mapping[str, Any] = root.get("Parameters") or {}

    def loc(self, *path: Any) -> SourceLocation:
        return SourceLocation(self.doc.source, self.doc.line(path))

    def props(self, logical_id: str) -> Mapping[str, Any]:
        resource = self.resources.get(logical_id)
        props = resource.get("Properties") if isinstance(resource, Mapping) else None
        return props if isinstance(props, Mapping) else {}

    def type_of(self, logical_id: str) -> str | None:
        resource = self.resources.get(logical_id)
        return resource.get("Type") if isinstance(resource, Mapping) else None

    # ------------------------------------------------------------ intrinsic functions

    def resolve(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, Mapping) and len(value) == 1:
            fn, arg = next(iter(value.items()))
            if fn == "Ref" and isinstance(arg, str):
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                return self.get_att(arg)
            if fn == "Fn::Sub":
                return self.sub(arg)
            if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
                parts = arg[1]
                if isinstance(parts, list):
                    return arg[0].join(self.resolve(part) for part in parts)
            if fn == "Fn::Select" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
                index = int(self.resolve(arg[0]))
                if 0 <= index < len(arg[1]):
                    return self.resolve(arg[1][index])
            if fn == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
                # Conditions depend on the deployed stack; only equal branches decide the value.
                try:
                    first, second = self.resolve(arg[1]), self.resolve(arg[2])
                except Unresolved:
                    raise Unresolved(json.dumps(value, sort_keys=True)) from None
                if first == second:
                    return first
        raise Unresolved(json.dumps(value, sort_keys=True))

    def ref(self, name: str) -> str:
        if name == "AWS::AccountId":
            return self.account_id
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name in self.parameters:
            param = self.parameters[name]
            if isinstance(param, Mapping) and "Default" in param:
                default = param["Default"]
                return ",".join(map(str, default)) if isinstance(default, list) else str(default)
            raise Unresolved(f"parameter {name} has no Default")
        kind = self.type_of(name)
        if kind in _PRINCIPAL_TYPES:
            return self.principal_name(name)  # Ref of a role/user/group is its name
        if kind == "AWS::IAM::ManagedPolicy":
            return self.managed_policy_arn(name)
        raise Unresolved(f"Ref {name}")

    def get_att(self, arg: Any) -> str:
        if isinstance(arg, list) and len(arg) == 2:
            logical_id, attr = arg[0], self.resolve(arg[1])
            kind = self.type_of(logical_id)
            if kind in _PRINCIPAL_TYPES and attr == "Arn":
                principal = _PRINCIPAL_TYPES[kind][0]
                return principal_arn(
                    self.account_id, principal, self.path_of(logical_id), self.principal_name(logical_id)
                )
            if kind == "AWS::IAM::ManagedPolicy" and attr == "PolicyArn":
                return self.managed_policy_arn(logical_id)
        raise Unresolved(f"Fn::GetAtt {json.dumps(arg)}")

    def sub(self, arg: Any) -> str:
        variables: Mapping[str, Any] = {}
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], Mapping):
            arg, variables = arg
        if not isinstance(arg, str):
            raise Unresolved(f"Fn::Sub {json.dumps(arg)}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} writes ${Literal}
            if name in variables:
                return self.resolve(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(name.split(".", 1))
            return self.ref(name)

        return _SUB.sub(replace, arg)

    def principal_name(self, logical_id: str) -> str:
        rtype = self.type_of(logical_id)
        if rtype not in _PRINCIPAL_TYPES:  # callers check this first; the KeyError the lookup always raised
            raise KeyError(rtype)
        kind, name_key = _PRINCIPAL_TYPES[rtype]
        name = self.props(logical_id).get(name_key)
        if name is None:
            if kind == "group":
                return f"<{logical_id}>"  # groups are not principals: a stand-in keeps members linked
            raise Unresolved(f"{logical_id} has a generated name")
        return self.resolve(name)

    def path_of(self, logical_id: str) -> str:
        try:
            return normalize_path(self.resolve(self.props(logical_id).get("Path", "/")))
        except Unresolved:
            return "/"

    def managed_policy_arn(self, logical_id: str) -> str:
        props = self.props(logical_id)
        if props.get("ManagedPolicyName") is None:
            # Generated name: the ARN is unknowable but the grants are not; key it by logical id.
            return f"arn:aws:iam::{self.account_id}:policy/<{logical_id}>"
        return policy_arn(self.account_id, self.path_of(logical_id), self.resolve(props["ManagedPolicyName"]))


def parse_template(located: Located, *, account_id: str) -> Parsed:
    """Read a CloudFormation template (already parsed with lines) into drafts and attachments."""
    tpl = _Template(located, account_id)
    out = Parsed()
    drafts: dict[str, Draft] = {}

    def document(logical_id: str, path: tuple, name: str, kind: str) -> LocatedDocument | None:
        raw: Any = tpl.resources[logical_id]
        for key in ("Properties", *path):
            raw = raw.get(key) if isinstance(raw, Mapping) else raw[key] if isinstance(raw, list) else None
        full = ("Resources", logical_id, "Properties", *path)
        if not isinstance(raw, Mapping | str) or (isinstance(raw, Mapping) and "Statement" not in raw):
            out.unresolved.append(
                (f"{logical_id}: policy document {json.dumps(raw, sort_keys=True)}", tpl.loc(*full))
            )
            return None
        located_doc = build_document(
            raw,
            name=name,
            kind=kind,
            where=f"{located.source}: {logical_id}",
            path=located.source,
            line_at=lambda p: located.line((*full, *p)),
        )
        out.unresolved.extend((text, tpl.loc(*full)) for text in located_doc.unresolved)
        return located_doc

    def resolved(value: Any, where: SourceLocation, what: str) -> str | None:
        try:
            return tpl.resolve(value)
        except Unresolved as exc:
            out.unresolved.append((f"{what}: {exc}", where))
            return None

    def items(logical_id: str, key: str) -> list[tuple[Any, SourceLocation]]:
        values = tpl.props(logical_id).get(key)
        if values is None:
            return []
        if not isinstance(values, list):
            return [(values, tpl.loc("Resources", logical_id, "Properties", key))]
        return [(v, tpl.loc("Resources", logical_id, "Properties", key, i)) for i, v in enumerate(values)]

    def local_target(value: Any, kind: str) -> Draft | None:
        """The draft a `!Ref Logical` names when it is a principal of this template."""
        if isinstance(value, Mapping) and set(value) == {"Ref"}:
            draft = drafts.get(value["Ref"])
            return draft if draft is not None and draft.kind == kind else None
        return None

    # Pass 1: principals.
    for logical_id, resource in tpl.resources.items():
        rtype = resource.get("Type") if isinstance(resource, Mapping) else None
        if rtype not in _PRINCIPAL_TYPES:
            continue
        kind, _ = _PRINCIPAL_TYPES[rtype]
        where = tpl.loc("Resources", logical_id)
        try:
            name: str | None = tpl.principal_name(logical_id)
        except Unresolved:
            name = None
            out.unlinked.append((logical_id, where, kind))
        draft = Draft(
            kind=kind,
            key=logical_id,
            name=name,
            location=where,
            origin="cloudformation",
            path=tpl.path_of(logical_id),
        )
        drafts[logical_id] = draft
        out.drafts.append(draft)
        props = tpl.props(logical_id)
        if kind != "group":
            facts = cloudformation_facts(
                props.get("Tags"), tpl.resolve, Unresolved, f"{located.source}: {logical_id}"
            )
            draft.tags = facts.get("tags", ())
        if kind == "role" and "AssumeRolePolicyDocument" in props:
            draft.trust = document(logical_id, ("AssumeRolePolicyDocument",), "trust", "trust")
        for i, policy in enumerate(props.get("Policies") or []):
            if not isinstance(policy, Mapping):
                out.unresolved.append(
                    (f"{logical_id}: Policies item {i + 1}", tpl.loc("Resources", logical_id))
                )
                continue
            policy_name = resolved(
                policy.get("PolicyName", str(i)), where, f"{logical_id}: PolicyName"
            ) or str(i)
            doc = document(logical_id, ("Policies", i, "PolicyDocument"), policy_name, "inline")
            if doc is not None:
                draft.inline.append(doc)
        for value, at in items(logical_id, "ManagedPolicyArns"):
            arn = resolved(value, at, f"{logical_id}: ManagedPolicyArns")
            if arn is not None:
                draft.managed.append((arn, at))
        if "PermissionsBoundary" in props:
            at = tpl.loc("Resources", logical_id, "Properties", "PermissionsBoundary")
            arn = resolved(props["PermissionsBoundary"], at, f"{logical_id}: PermissionsBoundary")
            if arn is not None:
                draft.boundary = (arn, at)
        if kind == "user":
            for value, at in items(logical_id, "Groups"):
                group = resolved(value, at, f"{logical_id}: Groups")
                if group is not None:
                    draft.groups.append(group)

    # Pass 2: policies and memberships defined as their own resources.
    for logical_id, resource in tpl.resources.items():
        rtype = resource.get("Type") if isinstance(resource, Mapping) else None
        props = tpl.props(logical_id)
        where = tpl.loc("Resources", logical_id)
        if rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            managed = rtype == "AWS::IAM::ManagedPolicy"
            arn = tpl.managed_policy_arn(logical_id) if managed else None
            name = arn or resolved(props.get("PolicyName", logical_id), where, f"{logical_id}: PolicyName")
            doc = document(
                logical_id, ("PolicyDocument",), name or logical_id, "managed" if managed else "inline"
            )
            if doc is None:
                continue
            if arn is not None:
                out.policies[arn] = doc
            for kind, key in (("role", "Roles"), ("user", "Users"), ("group", "Groups")):
                for value, at in items(logical_id, key):
                    target = local_target(value, kind)
                    if target is not None and arn is None:
                        target.inline.append(doc)
                    elif target is not None and arn is not None:  # arn is set: the branch above took None
                        target.managed.append((arn, at))
                    else:
                        target_name = resolved(value, at, f"{logical_id}: {key}")
                        if target_name is None:
                            continue
                        if arn is None:
                            out.inline.append((kind, target_name, doc))
                        else:
                            out.attachments.append((kind, target_name, arn, at))
        elif rtype in _INLINE_TYPES:
            kind, key = _INLINE_TYPES[rtype]
            name = (
                resolved(props.get("PolicyName", logical_id), where, f"{logical_id}: PolicyName")
                or logical_id
            )
            doc = document(logical_id, ("PolicyDocument",), name, "inline")
            value = props.get(key)
            target = local_target(value, kind)
            if doc is None:
                continue
            if target is not None:
                target.inline.append(doc)
            else:
                target_name = resolved(value, where, f"{logical_id}: {key}")
                if target_name is not None:
                    out.inline.append((kind, target_name, doc))
        elif rtype == "AWS::IAM::UserToGroupAddition":
            group = resolved(props.get("GroupName"), where, f"{logical_id}: GroupName")
            if group is None:
                continue
            for value, at in items(logical_id, "Users"):
                target = local_target(value, "user")
                if target is not None:
                    target.groups.append(group)
                    continue
                user = resolved(value, at, f"{logical_id}: Users")
                if user is not None:
                    out.memberships.append((user, group))
    return out
