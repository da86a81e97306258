"""Build realistic CloudTrail records and write them as CloudTrail delivers them (for tests).

Import it as `from cloudtrail_factory import ...` (pytest puts tests/ on sys.path). Typical use::

    from cloudtrail_factory import iam_user, assumed_role, event, assume_role_event, write_s3_layout

    alice = iam_user("111111111111", "alice")
    records = [
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-02T10:00:00Z"),
        assume_role_event(alice, "arn:aws:iam::111111111111:role/admin", "ASIAADMINSESSION0001",
                          "2026-06-02T11:00:00Z"),
        event(assumed_role("111111111111", "admin", "alice", "ASIAADMINSESSION0001"),
              "iam.amazonaws.com", "CreateUser", "2026-06-02T11:05:00Z"),
    ]
    write_s3_layout(tmp_path / "logs", records)   # AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz

Every value is a plain dict in CloudTrail's own camelCase shape, so tests can tweak any field
(`rec["errorCode"] = "AccessDenied"`, `del rec["eventTime"]`) before writing.
"""

from __future__ import annotations

import gzip
import json
import random
import string
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

Record = dict[str, Any]

_RNG = random.Random(20260601)  # deterministic file names and ids: reruns write identical trees


def _rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def access_key(prefix: str = "AKIA") -> str:
    """A fresh access key id (AKIA... long-term, ASIA... temporary)."""
    return prefix + _rand(16, string.ascii_uppercase + string.digits)


# ---------------------------------------------------------------- identities (userIdentity blocks)


def iam_user(account: str, name: str, key: str | None = None) -> Record:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + _rand(17, string.ascii_uppercase + string.digits),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": key or access_key("AKIA"),
        "userName": name,
    }


def root(account: str) -> Record:
    return {
        "type": "Root",
        "principalId": account,
        "arn": f"arn:aws:iam::{account}:root",
        "accountId": account,
        "accessKeyId": access_key("ASIA"),
    }


def assumed_role(account: str, role: str, session: str, key: str, *, path: str = "/") -> Record:
    """An AssumedRole identity: `key` is the temporary key returned by the AssumeRole call."""
    role_id = "AROA" + _rand(17, string.ascii_uppercase + string.digits)
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role{path}{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def aws_service(service: str = "lambda.amazonaws.com") -> Record:
    return {"type": "AWSService", "invokedBy": service}


def role_arn(account: str, role: str) -> str:
    return f"arn:aws:iam::{account}:role/{role}"


# ---------------------------------------------------------------- records


def event(
    identity: Mapping[str, Any] | None,
    source: str,
    name: str,
    time: str,
    *,
    account: str | None = None,
    region: str = "us-east-1",
    error_code: str | None = None,
    request_parameters: Mapping[str, Any] | None = None,
    response_elements: Mapping[str, Any] | None = None,
    event_id: str | None = None,
) -> Record:
    """One record. `account` is recipientAccountId (default: the identity's account).

    `identity=None` writes a record without userIdentity (legitimate for some events; counts for nobody).
    """
    recipient = account or (identity or {}).get("accountId") or "111111111111"
    rec: Record = {
        "eventVersion": "1.08",
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": dict(request_parameters) if request_parameters is not None else None,
        "responseElements": dict(response_elements) if response_elements is not None else None,
        "requestID": str(uuid.UUID(int=_RNG.getrandbits(128))),
        "eventID": event_id or str(uuid.UUID(int=_RNG.getrandbits(128))),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": recipient,
        "eventCategory": "Management",
    }
    if identity is not None:
        rec["userIdentity"] = dict(identity)
    if error_code:
        rec["errorCode"] = error_code
        rec["errorMessage"] = f"{error_code} (test)"
    return rec


def assume_role_event(
    caller: Mapping[str, Any] | None,
    target_role_arn: str,
    session_key: str,
    time: str,
    *,
    account: str | None = None,
    event_name: str = "AssumeRole",
    session_name: str = "session",
    principal_arn: str | None = None,
    provider: str | None = None,
    region: str = "us-east-1",
) -> Record:
    """An sts AssumeRole* record returning temporary credentials with access key `session_key`.

    Cross-account: write it twice, once with `account=<caller's account>` and once with the role's
    account (CloudTrail logs the call in both, with the same requestID).
    SAML: pass `event_name="AssumeRoleWithSAML"`, `principal_arn=<saml-provider ARN>`, caller=None-ish
    identity `{"type": "SAMLUser", ...}`; web identity: `event_name="AssumeRoleWithWebIdentity"`,
    `provider=<IdP>`.
    """
    role_account = target_role_arn.split(":")[4]
    params: Record = {"roleArn": target_role_arn, "roleSessionName": session_name, "durationSeconds": 3600}
    if principal_arn:
        params["principalArn"] = principal_arn
    response: Record = {
        "credentials": {
            "accessKeyId": session_key,
            "sessionToken": "SECRET-SESSION-TOKEN-" + _rand(24),
            "expiration": "Jan 1, 2030, 12:00:00 AM",
        },
        "assumedRoleUser": {
            "assumedRoleId": f"AROAEXAMPLE:{session_name}",
            "arn": f"arn:aws:sts::{role_account}:assumed-role/{target_role_arn.rsplit('/', 1)[-1]}/{session_name}",
        },
    }
    if provider:
        response["provider"] = provider
    return event(
        caller,
        "sts.amazonaws.com",
        event_name,
        time,
        account=account or role_account,
        region=region,
        request_parameters=params,
        response_elements=response,
    )


def saml_user(name: str = "jdoe") -> Record:
    return {
        "type": "SAMLUser",
        "principalId": f"EXAMPLEIDP:{name}",
        "userName": name,
        "identityProvider": "EXAMPLEIDP",
    }


def web_identity_user(provider: str = "accounts.google.com", subject: str = "1234") -> Record:
    return {
        "type": "WebIdentityUser",
        "principalId": f"{provider}:app:{subject}",
        "userName": subject,
        "identityProvider": provider,
    }


# ---------------------------------------------------------------- files


def write_records(
    path: Path, records: Iterable[Record], *, gz: bool | None = None, ndjson: bool = False
) -> Path:
    """Write one file: `{"Records": [...]}` (as CloudTrail delivers) or NDJSON; gzip if `gz` or name ends .gz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    records = list(records)
    text = "".join(json.dumps(r) + "\n" for r in records) if ndjson else json.dumps({"Records": records})
    data = text.encode()
    if gz if gz is not None else path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def s3_key(account: str, region: str, time: str, *, org_id: str | None = None) -> str:
    """The S3 key CloudTrail would use for a delivery file holding an event at `time` (ISO, UTC)."""
    y, m, d = time[0:4], time[5:7], time[8:10]
    stamp = f"{y}{m}{d}T{time[11:13]}{time[14:16]}Z"
    org = f"{org_id}/" if org_id else ""
    return (
        f"AWSLogs/{org}{account}/CloudTrail/{region}/{y}/{m}/{d}/"
        f"{account}_CloudTrail_{region}_{stamp}_{_rand(16)}.json.gz"
    )


def write_s3_layout(root_dir: Path, records: Iterable[Record], *, org_id: str | None = None) -> list[Path]:
    """Write records into the S3 delivery layout under `root_dir`, one gzipped file per
    (recipient account, region, day), named as CloudTrail names them. Returns the paths written."""
    groups: dict[tuple[str, str, str], list[Record]] = {}
    for rec in records:
        key = (
            rec.get("recipientAccountId") or "111111111111",
            rec.get("awsRegion") or "us-east-1",
            str(rec.get("eventTime") or "1970-01-01T00:00:00Z")[:10],
        )
        groups.setdefault(key, []).append(rec)
    paths = []
    for (account, region, _day), recs in sorted(groups.items()):
        first = min(str(r.get("eventTime") or "1970-01-01T00:00:00Z") for r in recs)
        paths.append(write_records(root_dir / s3_key(account, region, first, org_id=org_id), recs, gz=True))
    return paths


# ---------------------------------------------------------------- the neighbours of event logs in a bucket


def digest_document(
    account: str, region: str, end: str, log_keys: Iterable[str], *, bucket: str = "trail-bucket"
) -> Record:
    """An hourly log file validation digest (the keys of AWS's "CloudTrail digest file structure")."""
    stamp = end.replace("-", "").replace(":", "")
    return {
        "awsAccountId": account,
        "digestStartTime": end[:11] + f"{int(end[11:13]) - 1:02d}" + end[13:],
        "digestEndTime": end,
        "digestS3Bucket": bucket,
        "digestS3Object": f"AWSLogs/{account}/CloudTrail-Digest/{region}/{end[0:4]}/{end[5:7]}/{end[8:10]}/"
        f"{account}_CloudTrail-Digest_{region}_trail_{region}_{stamp}.json.gz",
        "digestPublicKeyFingerprint": _rand(32, "0123456789abcdef"),
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": end,
        "oldestEventTime": end,
        "previousDigestS3Bucket": bucket,
        "previousDigestS3Object": None,
        "previousDigestHashValue": None,
        "previousDigestHashAlgorithm": None,
        "previousDigestSignature": None,
        "logFiles": [
            {
                "s3Bucket": bucket,
                "s3Object": key,
                "hashValue": _rand(64, "0123456789abcdef"),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": end,
                "oldestEventTime": end,
            }
            for key in log_keys
        ],
    }


def insight_record(account: str, region: str, time: str, *, state: str = "Start") -> Record:
    """A CloudTrail Insights record: the API it is about lies inside insightDetails, not at the top."""
    return {
        "eventVersion": "1.08",
        "eventTime": time,
        "awsRegion": region,
        "eventID": str(uuid.UUID(int=_RNG.getrandbits(128))),
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": account,
        "sharedEventID": str(uuid.UUID(int=_RNG.getrandbits(128))),
        "insightDetails": {
            "state": state,
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "insightType": "ApiCallRateInsight",
            "insightContext": {"statistics": {"baseline": {"average": 0.1}, "insight": {"average": 5.0}}},
        },
        "eventCategory": "Insight",
    }


def write_s3_sync_tree(
    root_dir: Path, records: Iterable[Record], *, org_id: str | None = None, insights: bool = True
) -> dict[str, list[Path]]:
    """What `aws s3 sync s3://bucket .` leaves of a trail with log file validation (and Insights) on:
    the event logs, one digest per account, region and day listing them, and Insights files."""
    logs = write_s3_layout(root_dir, records, org_id=org_id)
    org = f"{org_id}/" if org_id else ""
    digests: list[Path] = []
    insight_files: list[Path] = []
    for path in logs:
        relative = path.relative_to(root_dir).as_posix()
        parts = relative.split("/")
        at = parts.index("CloudTrail")
        account, region, y, m, d = parts[at - 1], parts[at + 1], parts[at + 2], parts[at + 3], parts[at + 4]
        end = f"{y}-{m}-{d}T23:00:00Z"
        folder = root_dir / f"AWSLogs/{org}{account}/CloudTrail-Digest/{region}/{y}/{m}/{d}"
        name = f"{account}_CloudTrail-Digest_{region}_trail_{region}_{y}{m}{d}T230000Z.json.gz"
        digest = folder / name
        digest.parent.mkdir(parents=True, exist_ok=True)
        digest.write_bytes(
            gzip.compress(json.dumps(digest_document(account, region, end, [relative])).encode(), mtime=0)
        )
        digests.append(digest)
        if insights:
            folder = root_dir / f"AWSLogs/{org}{account}/CloudTrail-Insight/{region}/{y}/{m}/{d}"
            name = f"{account}_CloudTrail-Insight_{region}_{y}{m}{d}T2300Z_{_rand(16)}.json.gz"
            records_ = [
                insight_record(account, region, end),
                insight_record(account, region, end, state="End"),
            ]
            insight_files.append(write_records(folder / name, records_, gz=True))
    return {"logs": logs, "digests": digests, "insights": insight_files}
