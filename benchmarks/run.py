"""The performance benchmark (issues 8, 19): `python benchmarks/run.py [--events N,...] [--principals M]`.

Generates (once, under --data-dir, default `$XDG_CACHE_HOME/ctlint-bench` or `~/.cache/ctlint-bench`, never
in the repository) realistic CloudTrail in the S3 layout plus a matching IAM snapshot and config
(`benchmarks/generate.py`), then times side by side, on the same files, each in its own process (wall
time, events/s, peak RSS from wait4):

- the single-process decompression floor: `gzip -dc` of every file to /dev/null, and ISA-L inflate alone;
- a plain Python `gzip` + `json` loop extracting the same (principal, action) pairs, and the bare DuckDB
  `read_json_objects` + `json_transform` one-liner that groups (principal, source, event);
- the usage engine alone (LocalEngine.collect), cache off (and with `--engine-rows`: first run, warm from
  the per-file cache only, warm from the answer cache);
- `ctlint check --json` (report to /dev/null) with an empty cache (cold) and again (warm), for each
  `--findings` mode: the generator's wide grants (`*`, NotAction: millions of per-action findings), the
  realistic service-scoped grants (`benchmarks.generate.write_realistic`), and the per-action rules off;
- the issue's table (issue 19) as Markdown rows: each step's ratio to `gzip -dc`, seconds and peak RSS;
- trailscraper's local mode (`trailscraper select --log-dir ... | trailscraper generate`) if installed in
  the venv given by --trailscraper-venv (make one with `python -m venv V && V/bin/pip install trailscraper`);
- grants of every principal (ctlint.policy.compute_grants) vs CloudTracker's get_user_allowed_actions /
  get_role_allowed_actions (pip package `cloudtracker`, in --cloudtracker-venv) on the same snapshot.

Benchmarks measure; they are not tests. Machines are shared and noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.generate import CONFIG, generate, write_realistic  # noqa: E402

# The rules that make one finding per granted action; "per-action rules off" turns them off.
PER_ACTION_RULES = ("granted-unused", "granted-unknown", "granted-unused-conditional")

PYTHON_LOOP = r"""
import gzip, json, os, sys
pairs, events = set(), 0
for folder, _, names in os.walk(sys.argv[1]):
    for name in names:
        if not name.endswith(".json.gz"):
            continue
        with gzip.open(os.path.join(folder, name)) as handle:
            records = json.load(handle)["Records"]
        for r in records:
            events += 1
            if r.get("errorCode"):
                continue
            ui = r.get("userIdentity") or {}
            kind = ui.get("type")
            if kind in ("IAMUser", "Root"):
                who = ui.get("arn")
            elif kind in ("AssumedRole", "FederatedUser"):
                who = ((ui.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
            else:
                continue
            pairs.add((who, r["eventSource"].split(".")[0] + ":" + r["eventName"]))
print(json.dumps({"events": events, "pairs": len(pairs)}))
"""

ISAL_INFLATE = r"""
import os, sys
from isal import igzip
total = 0
for folder, _, names in os.walk(sys.argv[1]):
    for name in names:
        if name.endswith(".json.gz"):
            with open(os.path.join(folder, name), "rb") as handle:
                total += len(igzip.decompress(handle.read()))
print(total)
"""

# The bare DuckDB query a user could write: its own JSON reader, only the fields grouped on. Of the forms
# tried, `read_json_objects` + `json_transform` is the fast one in DuckDB 2.0: `read_json(...,
# columns={'Records': ...}, format='unstructured')` took 11.5x as long on the same 1,000 files.
DUCKDB_ONE_LINER = r"""
import sys, duckdb
shape = ('{"Records": [{"eventSource": "VARCHAR", "eventName": "VARCHAR", "userIdentity": '
         '{"arn": "VARCHAR", "sessionContext": {"sessionIssuer": {"arn": "VARCHAR"}}}}]}')
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")
rows = connection.sql(
    "SELECT coalesce(r.userIdentity.sessionContext.sessionIssuer.arn, r.userIdentity.arn) AS principal, "
    "r.eventSource, r.eventName, count(*) FROM (SELECT unnest(json_transform(json, "
    f"'{shape}').Records) AS r FROM read_json_objects('{sys.argv[1]}/**/*.json.gz')) GROUP BY ALL"
).fetchall()
print(len(rows))
"""

ENGINE = r"""
import json, sys, time
from datetime import datetime, timezone
from pathlib import Path
from ctlint.model import Window
from ctlint.usage.local import LocalEngine
window = Window(datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc))
engine = LocalEngine([Path(sys.argv[1])], progress=False, cache=sys.argv[2] == "on", answers=sys.argv[3] == "on")
raw = engine.collect(window, None)
print(json.dumps({"events": raw.stats.read, "rows": len(raw.rows), "stats": engine.stats}))
"""

GRANTS = r"""
import json, sys, time
from ctlint.catalog import Catalog
from ctlint.inventory import load_snapshot
from ctlint.policy import compute_grants
began = time.perf_counter()
catalog = Catalog.load()
inventory = load_snapshot(__import__("pathlib").Path(sys.argv[1]), account_id="111111111111", account_name="main")
loaded = time.perf_counter()
grants = [compute_grants(p, catalog) for p in inventory.principals]
done = time.perf_counter()
print(json.dumps({"principals": len(grants), "actions": sum(len(g.actions) for g in grants),
                  "load_s": loaded - began, "grants_s": done - loaded}))
"""

CLOUDTRACKER = r"""
import json, sys, time
import jmespath.parser
import cloudtracker as ct
# CloudTracker's pinned jmespath evicts its cache with random.sample(dict_keys), a TypeError on Python >= 3.11
jmespath.parser.Parser._MAX_SIZE = 10 ** 9
began = time.perf_counter()
api = ct.read_aws_api_list()
iam = json.load(open(sys.argv[1]))
loaded = time.perf_counter()
total = 0
for user in iam["UserDetailList"]:
    total += len(ct.get_user_allowed_actions(api, ct.get_user_iam(user["UserName"], iam), iam))
for role in iam["RoleDetailList"]:
    total += len(ct.get_role_allowed_actions(api, ct.get_role_iam(role["RoleName"], iam), iam))
done = time.perf_counter()
print(json.dumps({"principals": len(iam["UserDetailList"]) + len(iam["RoleDetailList"]), "actions": total,
                  "load_s": loaded - began, "grants_s": done - loaded}))
"""


def measure(argv, *, env=None, shell=False, timeout=None, cwd=None) -> dict:
    """Run one process; wall time, peak RSS (MB) of it and its children, and its stdout."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        shell=shell,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        return {"wall": time.perf_counter() - began, "rss_mb": None, "out": "", "timeout": True}
    wall = time.perf_counter() - began
    # RUSAGE_CHILDREN is cumulative max over waited children: good enough when each step is one process tree
    rss = __import__("resource").getrusage(__import__("resource").RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode not in (0, 1):
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return {"wall": wall, "rss_mb": rss, "out": out.decode(errors="replace"), "rc": proc.returncode}


def isolated(argv, **kwargs) -> dict:
    """`measure` in a fresh helper process so the peak RSS is this step's alone."""
    code = (
        f"import json,sys;sys.path.insert(0,{str(ROOT)!r});from benchmarks.run import measure;"
        "print(json.dumps(measure(json.loads(sys.argv[1]), **json.loads(sys.argv[2]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argv), json.dumps(kwargs)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="ctlint performance benchmark (see the module docstring)")
    parser.add_argument(
        "--events",
        default="200000,1000000,3000000",
        help="event counts, comma-separated (e.g. 200000,1000000,3000000); each is one full run",
    )
    parser.add_argument("--principals", type=int, default=1000)
    default_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ctlint-bench"
    parser.add_argument("--data-dir", type=Path, default=default_dir)
    parser.add_argument("--trailscraper-venv", type=Path, default=Path("/tmp/venvs/ts"))
    parser.add_argument("--cloudtracker-venv", type=Path, default=Path("/tmp/venvs/ctr"))
    parser.add_argument(
        "--skip", default="", help="comma-separated steps to skip: python,duckdb,trailscraper,grants"
    )
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--findings",
        choices=("wide", "realistic", "both"),
        default="both",
        help="which snapshots the check rows use: the generator's wide grants (`*`, NotAction: millions of "
        "per-action findings), realistic service-scoped grants (`iam-realistic/`), or both (default)",
    )
    parser.add_argument(
        "--engine-rows", action="store_true", help="also time the usage engine alone with each cache mode"
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.events.split(",") if size]
    for size in sizes:
        run_one(args, size)
    return 0


def run_one(args: argparse.Namespace, size: int) -> None:
    skip = set(filter(None, args.skip.split(",")))

    data = args.data_dir / f"ct2-{size}-{args.principals}"
    began = time.perf_counter()
    info = generate(data, size, args.principals)
    print(
        f"data: {data} ({info['events']:,} events, {info['files']:,} files, {info['gz_bytes'] / 1e6:.0f} MB gz, "
        f"{info['principals']} principals; generated or found in {time.perf_counter() - began:.1f} s)"
    )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    events = info["events"]
    logs = data / "logs"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    results: list[tuple[str, dict]] = []

    def step(name, result):
        results.append((name, result))
        rss = "-" if result.get("rss_mb") is None else f"{result['rss_mb']:.0f}"
        flag = " (TIMEOUT)" if result.get("timeout") else ""
        print(
            f"  {name:<40} {result['wall']:8.2f} s  {events / result['wall']:>12,.0f} ev/s  {rss:>6} MB{flag}",
            flush=True,
        )

    files = " ".join(f"'{p}'" for p in sorted(map(str, logs.rglob("*.gz"))))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(sorted(map(str, logs.rglob("*.gz")))))
    del files
    step(
        "gzip -dc (1 process, floor)",
        isolated(f"xargs -d '\\n' cat < '{listing.name}' | gzip -dc > /dev/null", shell=True),
    )
    step("ISA-L inflate alone (1 process)", isolated([sys.executable, "-c", ISAL_INFLATE, str(logs)]))
    if "python" not in skip:
        step(
            "python gzip+json loop (1 process)",
            isolated([sys.executable, "-c", PYTHON_LOOP, str(logs)], timeout=args.timeout),
        )
    if "duckdb" not in skip:
        step(
            "DuckDB json one-liner (group by)",
            isolated([sys.executable, "-c", DUCKDB_ONE_LINER, str(logs)], timeout=args.timeout),
        )
    cache = Path(tempfile.mkdtemp(prefix="ctlint-bench-cache-"))
    engine_env = dict(env, CTLINT_CACHE_DIR=str(cache))

    def engine(cache_mode: str, answers: str) -> dict:
        return isolated([sys.executable, "-c", ENGINE, str(logs), cache_mode, answers], env=engine_env)

    step("usage engine alone, cold", engine("off", "off"))
    if args.engine_rows:
        step("usage engine alone, first run", engine("on", "on"))
        step("usage engine alone, second, file cache", engine("on", "off"))
        step("usage engine alone, second run", engine("on", "on"))
    shutil.rmtree(cache, ignore_errors=True)

    configs = {"wide": data / "ctlint.yaml"}
    if args.findings in ("realistic", "both"):
        configs["realistic"] = write_realistic(data, args.principals)
    if args.findings == "realistic":
        del configs["wide"]
    off = data / "ctlint-per-action-off.yaml"
    off.write_text(
        CONFIG + "rules:\n" + "".join(f"  {rule}: {{enabled: false}}\n" for rule in PER_ACTION_RULES)
    )
    configs["per-action rules off"] = off
    for mode, config in configs.items():
        cache = Path(tempfile.mkdtemp(prefix="ctlint-bench-cache-"))
        counts = Path(tempfile.mkdtemp(prefix="ctlint-bench-summary-")) / "summary.json"
        check_env = dict(env, CTLINT_CACHE_DIR=str(cache))
        check = [
            *(sys.executable, "-m", "ctlint", "check", "--config", str(config), "--format", "json"),
            *("--output", "/dev/null", "--fail-on", "never", "--summary", str(counts)),
        ]
        step(f"ctlint check --json, cold ({mode})", isolated(check, env=check_env, cwd=str(data)))
        findings = json.loads(counts.read_text())["findings"]
        step(f"ctlint check --json, warm ({mode})", isolated(check, env=check_env, cwd=str(data)))
        print(f"    ({findings:,} per-action findings)")
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(counts.parent, ignore_errors=True)
    ts = args.trailscraper_venv / "bin" / "trailscraper"
    if "trailscraper" not in skip:
        if ts.exists():
            got = isolated(
                [
                    "bash",
                    "-o",
                    "pipefail",
                    "-c",
                    f"'{ts}' select --log-dir '{logs}' --from 2026-03-01 "
                    f"--to 2026-04-01 | '{ts}' generate > /dev/null",
                ],
                timeout=args.timeout,
            )
            if got.get("rc") not in (0, None):
                print(
                    f"  trailscraper select | generate: FAILED (exit {got['rc']}) after {got['wall']:.1f} s "
                    "(0.10.0 crashes on a record whose userIdentity is null)"
                )
            else:
                step("trailscraper select | generate", got)
        else:
            print(f"  trailscraper: not installed in {args.trailscraper_venv} (skipped)")

    by = dict(results)
    floor = by["gzip -dc (1 process, floor)"]["wall"]
    print("\nratios (lower is better for ctlint):")
    for name, result in results:
        if name != "gzip -dc (1 process, floor)":
            print(f"  {name:<40} {result['wall'] / floor:6.2f}x gzip -dc")
    for mode in configs:
        cold, warm = by[f"ctlint check --json, cold ({mode})"], by[f"ctlint check --json, warm ({mode})"]
        print(f"  second/first ctlint check ({mode}): {warm['wall'] / cold['wall']:.1%}")
    if args.engine_rows:
        engine_first = by["usage engine alone, first run"]["wall"]
        print(
            f"  engine alone second/first: {by['usage engine alone, second run']['wall'] / engine_first:.1%} "
            f"(answer cache), {by['usage engine alone, second, file cache']['wall'] / engine_first:.1%} "
            "(file cache only)"
        )
    print(
        f"\nthe issue's table rows at {events:,} events (ratio to gzip -dc {floor:.2f} s; seconds; peak MB):"
    )
    print("| | × gzip -dc | s | peak MB |\n|---|---|---|---|")
    for name, result in results:
        if name != "gzip -dc (1 process, floor)" and not result.get("timeout"):
            rss = "–" if result.get("rss_mb") is None else f"{result['rss_mb']:.0f}"
            print(f"| {name} | {result['wall'] / floor:.2f}× | {result['wall']:.1f} | {rss} |")

    if "grants" not in skip:
        print("\ngrants (main account snapshot):")
        mine = isolated([sys.executable, "-c", GRANTS, str(data / "iam" / "a.json")], env=env)
        got = json.loads(mine["out"])
        print(
            f"  ctlint compute_grants: {got['principals']} principals in {got['grants_s']:.2f} s "
            f"(+{got['load_s']:.2f} s catalog and snapshot), {mine['rss_mb']:.0f} MB"
        )
        py = args.cloudtracker_venv / "bin" / "python"
        if py.exists():
            theirs = isolated(
                [str(py), "-c", CLOUDTRACKER, str(data / "iam" / "a.json")], timeout=args.timeout
            )
            if theirs.get("timeout"):
                print(f"  CloudTracker: timed out after {args.timeout:.0f} s")
            else:
                t = json.loads(theirs["out"])
                print(
                    f"  CloudTracker get_*_allowed_actions: {t['principals']} principals in {t['grants_s']:.2f} s "
                    f"(+{t['load_s']:.2f} s), {theirs['rss_mb']:.0f} MB; ratio {t['grants_s'] / got['grants_s']:.1f}x"
                )
        else:
            print(f"  CloudTracker: not installed in {args.cloudtracker_venv} (skipped)")
    os.unlink(listing.name)


if __name__ == "__main__":
    sys.exit(main())
