"""Whether the tests that fetch the pinned npm package can run here (CI has npm and the registry)."""

from __future__ import annotations

import shutil
import subprocess


def npm_unavailable(spec: str) -> str | None:
    """None when npm is on PATH and the registry answers for `spec` (NAME@VERSION), else why not."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH"
    try:
        done = subprocess.run(
            [npm, "view", spec, "version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"npm view {spec} failed: {exc}"
    if done.returncode != 0 or done.stdout.strip() != spec.rpartition("@")[2]:
        return f"the npm registry did not answer for {spec}: {done.stderr.strip()[-200:]}"
    return None
