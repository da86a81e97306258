"""Run the PR gate on this folder: IaC (proposed) vs snapshot (deployed) vs usage.

Usage is given inline (what CloudTrail showed in the window) so the example runs offline in a second;
`ctlint check` computes it from CloudTrail logs once the `accounts[].iac` config key is wired in.
"""

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from ctlint.catalog import Catalog
from ctlint.iac.compare import make_locator, pr_findings
from ctlint.iac.loader import load_iac
from ctlint.inventory import load_snapshot
from ctlint.model import ActionUse, PrincipalUsage, Usage, Window

HERE = Path(__file__).resolve().parent
ACCOUNT = "111111111111"
IAC = [{"terraform_plan": "plan.json"}] if HERE.name == "terraform" else [{"cloudformation": "*.yaml"}]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service/" + ("app" if HERE.name == "terraform" else "app-prod")
USED = {"terraform": ["logs:CreateLogGroup", "s3:ListBucket"], "cloudformation": ["dynamodb:DeleteItem"]}[HERE.name]

seen = ActionUse(12, datetime(2026, 10, 1, tzinfo=timezone.utc), datetime(2026, 10, 30, tzinfo=timezone.utc))
usage = Usage(
    window=Window(datetime(2026, 8, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)),
    principals={ROLE: PrincipalUsage(ROLE, "role", {action: seen for action in USED})},
)
snapshot = load_snapshot(HERE / "snapshot.json", account_id=ACCOUNT, account_name="demo", display_path="snapshot.json")
result = load_iac(IAC, base_dir=HERE, account_id=ACCOUNT, account_name="demo", snapshot=snapshot)
findings = pr_findings(result.inventory, snapshot, usage, Catalog.load(), account_name="demo",
                       locate=make_locator(result))
for key, where in result.unlinked:
    print(f"note     {where.path}:{where.line}  {key}: generated name, cannot be linked to usage")
for text, where in result.unresolved:
    print(f"note     {where.path}:{where.line}  unresolved: {text}")
for f in findings:
    print(f"{f.level.value:8} {f.location.path}:{f.location.line}  {f.rule}  {f.action}  {f.message}")
json.dump([{"rule": f.rule, "action": f.action, "line": f.location.line} for f in findings], sys.stderr)
sys.exit(1 if findings else 0)
