"""Write the CloudTrail logs of the Terraform and CloudFormation examples (deterministic, like the demo).

The role `service/app` (Terraform) used logs:CreateLogGroup and s3:ListBucket last month; the role
`service/app-prod` (CloudFormation) used dynamodb:DeleteItem (a data event its trail logs).
Run: python examples/iac_logs.py
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("demo_generate", HERE / "demo" / "generate.py")
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)

ACCOUNT = "111111111111"
CALLS = {
    "terraform": ("app", [("logs.amazonaws.com", "CreateLogGroup"), ("s3.amazonaws.com", "ListObjects")]),
    "cloudformation": ("app-prod", [("dynamodb.amazonaws.com", "DeleteItem")]),
}


def role_identity(role_name: str, key: str) -> dict:
    identity = demo.role_identity(ACCOUNT, role_name, "i-0abc", key, "2026-10-01T00:00:00Z")
    issuer = identity["sessionContext"]["sessionIssuer"]
    issuer["arn"] = f"arn:aws:iam::{ACCOUNT}:role/service/{role_name}"
    return identity


def main() -> None:
    for example, (role_name, calls) in CALLS.items():
        logs = HERE / example / "logs"
        shutil.rmtree(logs, ignore_errors=True)
        trail = demo.Trail()
        identity = role_identity(role_name, demo._id(example, prefix="ASIA"))
        for day in ("2026-10-01", "2026-10-15", "2026-10-30"):
            for source, name in calls:
                trail.add(ACCOUNT, demo.call(identity, f"{day}T08:00:00Z", source, name))
        print(f"{example}: wrote {trail.write(logs)} records")


if __name__ == "__main__":
    main()
