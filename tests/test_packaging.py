"""rules/ and data/ must work from an installed wheel, not only from the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_rules_data_and_schema_and_they_load_from_it(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("ctlint-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ctlint/schemas/config.schema.json" in names
    assert {n for n in names if n.startswith("ctlint/_shipped/rules/")} >= {
        "ctlint/_shipped/rules/granted-unused.yaml",
        "ctlint/_shipped/rules/unused-actor.yaml",
    }
    assert any(n.startswith("ctlint/_shipped/data/") for n in names)

    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    probe = (
        "import ctlint.resources as r, ctlint.rulefiles as f, ctlint.catalog as c;"
        "assert '_shipped' in str(r.shipped_dir('rules')), r.shipped_dir('rules');"
        "assert '_shipped' in str(r.shipped_dir('data'));"
        "import ctlint.iac.managed as m;"
        "print(len(f.builtin_rules()), len(c.Catalog.load().all_actions), m.policy_count())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rules, actions, managed_policies = map(int, result.stdout.split())
    assert rules >= 6
    assert actions > 20000
    assert managed_policies >= 1500
