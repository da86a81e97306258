"""Proof that a change leaves ctlint's public output alone: `python benchmarks/same_output.py CONFIG... --out F`.

For each config, runs `ctlint check` (each in its own process, as a user would) with every report format
on stdout and as a file, `--summary`, a baseline written with `--update-baseline` and a check against it,
every `--fail-on` level, each twice with one cache folder (a cold and a warm run: a cache must never change
a byte). It records each output's SHA-256 and size and each exit code in one JSON document. Run it before
and after a change and compare (`--compare BEFORE.json`): it prints every output that differs and exits 1.

Reports that carry today's date (a baseline's `first_seen`) are the same within one day.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILE_FORMATS = ("json", "sarif", "junit", "markdown")
STDOUT_FORMATS = ("text", "json", "sarif", "junit", "markdown")
FAIL_ON = ("error", "warning", "note", "never")


def _digest(path: Path) -> dict[str, object]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
    return {"sha256": hasher.hexdigest(), "bytes": size}


def _check(config: Path, work: Path, cache: Path, extra: list[str], label: str) -> dict[str, object]:
    """One `ctlint check` run; stdout to a file, the digests of stdout and of every file it wrote."""
    out_dir = work / label
    out_dir.mkdir(parents=True)
    stdout = out_dir / "stdout"
    argv = [sys.executable, "-m", "ctlint", "check", "--config", str(config), "--no-color", *extra]
    argv = [a.replace("{out}", str(out_dir)) for a in argv]
    env = dict(os.environ, CTLINT_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), CTLINT_PROGRESS="off")
    env.pop("FORCE_COLOR", None)
    with stdout.open("wb") as handle:
        done = subprocess.run(argv, stdout=handle, stderr=subprocess.PIPE, env=env, cwd=config.parent)
    if done.returncode == 2:
        sys.stderr.write(done.stderr.decode(errors="replace"))
    record: dict[str, object] = {"exit": done.returncode, "stdout": _digest(stdout)}
    for path in sorted(out_dir.iterdir()):
        if path.name != "stdout":
            record[path.name] = _digest(path)
    shutil.rmtree(out_dir)
    return record


def _runs(config: Path, work: Path, cache: Path) -> dict[str, object]:
    files = [arg for fmt in FILE_FORMATS for arg in (f"--{fmt}", f"{{out}}/report.{fmt}")]
    runs: dict[str, list[str]] = {}
    for fmt in STDOUT_FORMATS:
        runs[f"stdout-{fmt}"] = ["--format", fmt]
    runs["files"] = [
        "--format",
        "json",
        "--output",
        "{out}/out.json",
        *files,
        "--summary",
        "{out}/summary.json",
    ]
    for level in FAIL_ON:
        runs[f"fail-on-{level}"] = ["--fail-on", level, "--format", "json", "--summary", "{out}/summary.json"]
    baseline = work / "baseline.json"
    results: dict[str, object] = {}
    for label, extra in runs.items():
        for turn in ("cold", "warm"):
            results[f"{label}/{turn}"] = _check(config, work, cache, extra, f"{label}-{turn}")
    # The baseline flow: write it (exit 0), then gate against it with every report.
    results["baseline-write"] = _check(
        config, work, cache, ["--baseline", str(baseline), "--update-baseline", "--format", "json"], "bw"
    )
    results["baseline-file"] = _digest(baseline)
    for turn in ("cold", "warm"):
        results[f"baseline-check/{turn}"] = _check(
            config,
            work,
            cache,
            ["--baseline", str(baseline), *files, "--summary", "{out}/summary.json"],
            f"bc-{turn}",
        )
    return results


def collect(configs: list[Path]) -> dict[str, object]:
    document: dict[str, object] = {}
    for config in configs:
        work = Path(tempfile.mkdtemp(prefix="ctlint-same-"))
        try:
            cache = work / "cache"
            cache.mkdir()
            print(f"same_output: {config}", file=sys.stderr, flush=True)
            document[str(config.resolve())] = _runs(config.resolve(), work, cache)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return document


def compare(before: dict[str, object], after: dict[str, object]) -> list[str]:
    differences = []
    for config in sorted(before.keys() | after.keys()):
        old, new = before.get(config) or {}, after.get(config) or {}
        assert isinstance(old, dict) and isinstance(new, dict)
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                differences.append(f"{config} {key}: {old.get(key)} -> {new.get(key)}")
    return differences


def cold_warm(document: dict[str, object]) -> list[str]:
    """Outputs of a warm run (caches filled by the cold one) that differ from the cold run's."""
    differences = []
    for config, runs in document.items():
        assert isinstance(runs, dict)
        for key, cold in runs.items():
            if key.endswith("/cold") and runs.get(key[: -len("cold")] + "warm") != cold:
                differences.append(f"{config} {key[: -len('/cold')]}: cold and warm runs differ")
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="write the digests here (JSON)")
    parser.add_argument(
        "--compare", type=Path, help="digests from before the change: report every difference"
    )
    args = parser.parse_args(argv)
    document = collect(args.configs)
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    differences = cold_warm(document)
    if args.compare is not None:
        differences += compare(json.loads(args.compare.read_text()), document)
    for line in differences:
        print(line)
    print(f"same_output: {len(differences)} difference(s)", file=sys.stderr)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
