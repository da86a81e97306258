"""The benchmark's helpers: the realistic-findings snapshots and the byte-identity comparison."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.generate import REALISTIC_CONFIG, World, snapshots, write_realistic  # noqa: E402
from benchmarks.same_output import cold_warm, compare  # noqa: E402


def _statements(snapshot: dict) -> list[dict]:
    found = []
    for user in snapshot["UserDetailList"]:
        found += [s for p in user["UserPolicyList"] for s in p["PolicyDocument"]["Statement"]]
    for role in snapshot["RoleDetailList"]:
        found += [s for p in role["RolePolicyList"] for s in p["PolicyDocument"]["Statement"]]
    for group in snapshot["GroupDetailList"]:
        found += [s for p in group["GroupPolicyList"] for s in p["PolicyDocument"]["Statement"]]
    return found


def _attached(snapshot: dict) -> set[str]:
    return {
        a["PolicyName"]
        for p in (*snapshot["UserDetailList"], *snapshot["RoleDetailList"])
        for a in p["AttachedManagedPolicies"]
    }


def test_realistic_snapshots_grant_per_service_only(tmp_path):
    config = write_realistic(tmp_path, 50)
    assert config == tmp_path / REALISTIC_CONFIG
    assert "iam: iam-realistic/a.json" in config.read_text()
    snapshot = json.loads((tmp_path / "iam-realistic" / "a.json").read_text())
    statements = _statements(snapshot)
    assert statements and not any("NotAction" in s for s in statements)
    actions = [
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert "*" not in actions and all(":" in a for a in actions)
    assert not _attached(snapshot) & {"Admin", "PowerUser", "ReadOnly"}
    # The wide snapshot of the same world keeps its account-wide grants (the benchmark's other mode).
    wide, _ = snapshots(World(50))
    assert any("NotAction" in s for s in _statements(wide)) or _attached(wide) & {"Admin", "PowerUser"}


def test_same_output_reports_every_difference():
    before = {"c": {"stdout-json/cold": {"sha256": "a"}, "stdout-json/warm": {"sha256": "a"}}}
    assert compare(before, before) == [] and cold_warm(before) == []
    after = {"c": {"stdout-json/cold": {"sha256": "b"}, "stdout-json/warm": {"sha256": "a"}}}
    assert compare(before, after) == ["c stdout-json/cold: {'sha256': 'a'} -> {'sha256': 'b'}"]
    assert cold_warm(after) == ["c stdout-json: cold and warm runs differ"]
