"""Findings for the reporter and baseline tests: one hand-made granted-unused finding, changed per test."""

from __future__ import annotations

import dataclasses

from ctlint.model import Finding, Level

ACCOUNT = "111111111111"


def make_finding(principal: str = "alice", action: str | None = "s3:GetObject", **changes) -> Finding:
    base = Finding(
        rule="granted-unused",
        level=Level.WARNING,
        account=ACCOUNT,
        account_name="demo",
        principal=f"arn:aws:iam::{ACCOUNT}:user/{principal}",
        principal_type="user",
        action=action,
        role=None,
        message=f"{principal} is granted {action} but did not use it.",
        fingerprint=f"fp-{principal}-{action}",
    )
    return dataclasses.replace(base, **changes)
