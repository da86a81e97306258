"""Benchmark (not a test): catalog load time and wildcard expansion. `python benchmarks/bench_catalog.py`."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ctlint.catalog import CATALOG_FILE, Catalog  # noqa: E402
from ctlint.resources import data_path  # noqa: E402


def _time(fn, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    content = data_path(CATALOG_FILE).read_bytes()
    print(f"catalog file: {len(content):,} bytes")
    print(f"load (decompress + parse + index): {_time(lambda: Catalog.from_bytes(content)) * 1000:.1f} ms")
    for pattern in ("*", "s3:Get*", "ec2:*", "*:Get*", "s3:GetObjec?"):
        unused = iter([Catalog.from_bytes(content) for _ in range(5)])  # first expand of each: uncached
        cold = _time(lambda p=pattern, u=unused: next(u).expand(p))
        fresh = Catalog.from_bytes(content)
        size = len(fresh.expand(pattern))
        warm = _time(lambda f=fresh, p=pattern: f.expand(p), repeat=50)
        print(
            f"expand {pattern!r:>15}: {size:6,} actions, uncached {cold * 1000:7.2f} ms, cached {warm * 1e6:5.1f} us"
        )
    fresh = Catalog.from_bytes(content)
    print(f"expand_not(['s3:*']): {_time(lambda: fresh.expand_not(['s3:*'])) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
