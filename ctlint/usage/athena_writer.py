"""The daily aggregate table's writer (`ctlint athena aggregate`) and its day markers in S3.

A day is written by UNLOAD of the trail's rows, read back, then marked; `valid_days` tells which
marked days a check may read from the table instead of the trail.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from ctlint.errors import ConfigError, EngineError
from ctlint.usage.athena_errors import describe

if TYPE_CHECKING:
    from ctlint.usage.athena import AthenaEngine


def _aggregate_bucket(engine: AthenaEngine) -> tuple[str, str]:
    location = engine.settings.aggregate_location
    if location is None:
        raise ConfigError(
            "the config's athena block has no aggregate_location; add one (s3://bucket/prefix/) "
            "to use the daily aggregate table."
        )
    bucket, _, prefix = location[len("s3://") :].partition("/")
    return bucket, prefix


def _s3_call(engine: AthenaEngine, method: str, doing: str, **kwargs: Any) -> Any:
    try:
        return getattr(engine.client("s3"), method)(**kwargs)
    except Exception as error:
        raise describe(error, doing) from None


def _marked_days(engine: AthenaEngine) -> set[str]:
    """The days that have a marker object (not yet checked), as 'YYYY-MM-DD'."""
    from ctlint.usage import athena_aggregate as agg

    bucket, prefix = _aggregate_bucket(engine)
    found: set[str] = set()
    what = f"listing the aggregate markers in s3://{bucket}/{prefix}"
    for contents in _listed(engine, bucket, prefix + agg.MARKER_DIR, what):
        for item in contents:
            stem = item["Key"].rsplit("/", 1)[-1]
            if stem.endswith(".json"):
                found.add(stem[: -len(".json")])
    return found


def _listed(engine: AthenaEngine, bucket: str, prefix: str, what: str) -> Iterator[list[dict[str, Any]]]:
    """The objects under `prefix`, a page (up to 1000) at a time; the next page is asked for only when
    the caller is done with this one."""
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = _s3_call(engine, "list_objects_v2", what, **kwargs)
        yield page.get("Contents", [])
        token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
        if not token:
            return


def valid_days(
    engine: AthenaEngine,
    days: Sequence[date],
    accounts: Sequence[str],
    *,
    quiet_for: Collection[date] = (),
    then: str = "reading them from the trail (rewrite them with `ctlint athena aggregate --force`)",
) -> set[date]:
    """The days whose marker is valid for `accounts`; says on stderr why marked days are not used."""
    from ctlint.usage import athena_aggregate as agg

    bucket, prefix = _aggregate_bucket(engine)
    marked = _marked_days(engine)
    valid: set[date] = set()
    refused: dict[str, list[date]] = {}
    for day in days:
        if agg.day_text(day) not in marked:
            continue
        key = agg.marker_key(prefix, day)
        body = _s3_call(
            engine, "get_object", f"reading the aggregate marker s3://{bucket}/{key}", Bucket=bucket, Key=key
        )
        try:
            content = body["Body"].read()
        except Exception as error:
            raise describe(error, f"reading the aggregate marker s3://{bucket}/{key}") from None
        reason = agg.check_marker(content, day, accounts, engine.settings.location.base)
        if reason is None:
            valid.add(day)
        elif day not in quiet_for:
            refused.setdefault(reason, []).append(day)
    for reason, refused_days in refused.items():
        engine.say(
            f"{agg.count_days(len(refused_days))} ({agg.describe_days(refused_days)}) {reason}; {then}."
        )
    return valid


def _delete_prefix(engine: AthenaEngine, bucket: str, prefix: str) -> int:
    """Delete every object under `prefix` (paginated, 1000 per request); returns how many."""
    deleted = 0
    for contents in _listed(engine, bucket, prefix, f"listing s3://{bucket}/{prefix}"):
        keys = [{"Key": item["Key"]} for item in contents]
        if keys:
            answer = _s3_call(
                engine,
                "delete_objects",
                f"deleting s3://{bucket}/{prefix}",
                Bucket=bucket,
                Delete={"Objects": keys, "Quiet": True},
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise EngineError(
                    f"could not delete s3://{bucket}/{first.get('Key')} ({first.get('Code')}: "
                    f"{first.get('Message')}) before rewriting the day; nothing was written."
                )
            deleted += len(keys)
    return deleted


def aggregate(
    engine: AthenaEngine,
    days: Sequence[date],
    *,
    force: bool = False,
    now: Callable[[], datetime] | None = None,
) -> list[str]:
    """Write each day of `days` into the aggregate table (skipping days with a valid marker unless
    `force`); returns one line per day written or skipped. Idempotent."""
    from ctlint.usage import athena_aggregate as agg
    from ctlint.usage import sql
    from ctlint.usage.athena import format_bytes

    s = engine.settings
    bucket, prefix = _aggregate_bucket(engine)
    name = s.aggregate_table_name
    assert name is not None and s.aggregate_location is not None
    clock = now or (lambda: datetime.now(timezone.utc))
    done: list[str] = []
    try:
        if not engine.ready:
            for line in engine.setup():
                engine.say(line)
        valid = set() if force else valid_days(engine, days, engine.accounts, then="writing them again")
        skipped = [d for d in days if d in valid]
        if skipped:
            engine.say(
                f"{agg.count_days(len(skipped))} already aggregated ({agg.describe_days(skipped)}); "
                "--force rewrites them."
            )
        for day in days:
            if day in valid:
                continue
            marker = agg.marker_key(prefix, day)
            # The marker goes first: a run that stops half-way leaves the day unmarked, never wrong.
            _s3_call(engine, "delete_object", f"deleting s3://{bucket}/{marker}", Bucket=bucket, Key=marker)
            day_prefix = f"{prefix}day={agg.day_text(day)}/"
            removed = _delete_prefix(engine, bucket, day_prefix)
            statement = agg.day_statement(s.table_name, s.aggregate_location, day, engine.accounts)
            literals = [sql.athena_literal(v) for v in statement.params]
            engine.run_query(f"aggregate {agg.day_text(day)}", statement.unload, literals)
            unload = engine.last_run
            counts = engine.run_query(
                f"verify {agg.day_text(day)}",
                agg.verify_sql(name),
                [sql.athena_literal(agg.day_text(day))],
            )
            rows = {str(q): int(n) for q, n in counts}
            if rows.get("event_stats") != 1:
                raise EngineError(
                    f"the aggregate table {s.database}.{name} does not read back day {agg.day_text(day)} "
                    f"after UNLOAD to {statement.location} (got {rows or 'no rows'}); check its location "
                    "and projection (`ctlint athena setup`)."
                )
            written = agg.Marker(
                day=day,
                accounts=engine.accounts,
                trail=s.location.base,
                rows=rows,
                written_at=clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            _s3_call(
                engine,
                "put_object",
                f"writing s3://{bucket}/{marker}",
                Bucket=bucket,
                Key=marker,
                Body=written.to_json().encode(),
                ContentType="application/json",
            )
            line = (
                f"aggregated {agg.day_text(day)}: {sum(rows.values())} rows, "
                f"{format_bytes(unload.bytes_scanned)} scanned"
                + (f" (replaced {removed} objects)" if removed else "")
            )
            engine.say(line)
            done.append(line)
        engine.report_cost()
        return done
    finally:
        engine.cleanup()
        engine.close()
