"""Errors that end a run with exit code 2 and one clear sentence."""

from __future__ import annotations


class CtlintError(Exception):
    """Bad usage, configuration or input. The message is shown to the user as-is; exit code 2."""

    exit_code = 2


class ConfigError(CtlintError):
    """The config file is missing, unreadable or invalid."""


class InputError(CtlintError):
    """An IAM snapshot, IaC file or CloudTrail file cannot be used."""


class EngineError(CtlintError):
    """A usage engine (DuckDB or Athena) failed; never fall back to partial results."""
