"""The one place a usage engine is built from a config: `ctlint check`, `ctlint athena` and benchmarks."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ctlint.config import Config

if TYPE_CHECKING:
    from ctlint.progress import (
        Progress,  # the engines load their libraries (DuckDB, sqlglot, boto3) only when built
    )
    from ctlint.usage.athena import AthenaEngine
    from ctlint.usage.base import UsageEngine


def make_athena_engine(
    config: Config, *, keep_results: bool = False, progress: Progress | None = None
) -> AthenaEngine:
    """The Athena engine of the config's `athena:` block; `keep_results` overrides the block's."""
    from ctlint.usage.athena import AthenaEngine, AthenaSettings  # boto3 and pyathena load only for Athena

    settings = AthenaSettings.from_mapping(config.athena or {}, where=f"{config.path}: athena")
    if keep_results:
        settings = replace(settings, keep_results=True)
    # The Athena engine prints its own progress; it stays quiet when the run's progress is off.
    quiet = progress is not None and not progress.enabled
    return AthenaEngine(
        settings, [account.id for account in config.accounts], progress=False if quiet else None
    )


def make_engine(
    config: Config,
    *,
    keep_results: bool = False,
    skip_bad_files: bool = False,
    skip_bad_records: bool = False,
    no_cache: bool = False,
    identities: bool = True,
    progress: Progress | None = None,
) -> UsageEngine:
    """The usage engine the config asks for; the flags only ever loosen or add to the config's choices
    (the command line's --skip-bad-files, --skip-bad-records, --no-cache, --keep-results). `identities=False`:
    the caller does not read RawUsage.identities, so an answer from the cache need not build them."""
    if config.usage_source == "athena":
        return make_athena_engine(config, keep_results=keep_results, progress=progress)
    from ctlint.usage.answered import AnsweredEngine  # a cached answer needs no DuckDB

    return AnsweredEngine(
        list(config.local_paths),
        skip_bad_files=skip_bad_files or config.skip_bad_files,
        skip_bad_records=skip_bad_records or config.skip_bad_records,
        max_skipped_share=config.max_skipped_share,
        cache=config.cache and not no_cache,
        identities=identities,
        progress=progress,
    )
