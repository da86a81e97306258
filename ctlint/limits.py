"""Size limits for untrusted input files, checked on the file's size before a byte is parsed.

Each limit is generous for real files and refuses, fast and by name, a file built to exhaust the runner.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ctlint.errors import ConfigError, CtlintError, InputError

MIB = 1024 * 1024
# CloudFormation itself accepts templates up to 1 MB (from S3); transforms expand them on AWS's side.
MAX_TEMPLATE_BYTES = 8 * MIB
# A plan holds every resource's before and after state; large estates reach tens of MB. The line-keeping
# parser reads about 0.5-1 MB/s, so this bound is also about a minute of a runner's time.
MAX_PLAN_BYTES = 64 * MIB
# `aws iam get-account-authorization-details` of a large account is tens of MB.
MAX_SNAPSHOT_BYTES = 512 * MIB
# An SCP or RCP is at most 5,120 characters; a file may list the describe-policy outputs of many.
MAX_ORG_POLICY_BYTES = 4 * MIB

LIMITS = {
    "cloudformation": MAX_TEMPLATE_BYTES,
    "terraform_plan": MAX_PLAN_BYTES,
    "snapshot": MAX_SNAPSHOT_BYTES,
    "organization_policy": MAX_ORG_POLICY_BYTES,
}
_WHAT = {
    "cloudformation": "CloudFormation template",
    "terraform_plan": "Terraform plan",
    "snapshot": "IAM snapshot",
    "organization_policy": "organisation policy file",
}


def _mib(size: int) -> str:
    return f"{size / MIB:,.1f} MiB"


def check_file_size(path: Path | str, kind: str, shown: str | None = None) -> None:
    """Raise InputError when the file at `path` is larger than the limit for `kind`."""
    limit = LIMITS[kind]
    try:
        size = os.stat(path).st_size
    except OSError:
        return  # the reader reports a missing or unreadable file in its own words
    if size > limit:
        raise InputError(
            f"{shown or path}: the {_WHAT[kind]} is {_mib(size)}, over ctlint's limit of {_mib(limit)} "
            "for such files; it was not read."
        )


MAX_VALUES = 100_000  # a config is a few hundred values; YAML aliases can multiply that exponentially


def check_size(document: Any, path: Path | str, what: str = "config") -> None:
    """Refuse a YAML document whose aliases expand it past MAX_VALUES (a 'billion laughs' file)."""
    count = 0
    stack = [document]
    while stack:
        value = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise ConfigError(
                f"{path}: the {what} expands to more than {MAX_VALUES:,} values (YAML aliases nested in aliases?)."
            )
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def json_loads(text: str | bytes, where: str, what: str, error: type[CtlintError] = InputError) -> Any:
    """`json.loads`, with what Python's reader cannot take as one sentence instead of a crash: nesting past
    its recursion limit, and values it refuses (an integer of more than 4,300 digits). A syntax error
    (json.JSONDecodeError) is left to the caller, which words it for its format."""
    try:
        return json.loads(text)
    except RecursionError:
        raise error(
            f"{where}: {what} is nested deeper than ctlint's JSON reader allows (about a thousand levels)."
        ) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        raise error(f"{where}: {what} holds a value ctlint cannot read ({exc}).") from None
