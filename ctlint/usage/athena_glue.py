"""ctlint's objects in the Glue catalog: `setup` creates or updates them, `teardown` drops its own.

Functions of a running `AthenaEngine`: DDL goes through its `run_query` (so it is costed, cleaned up
and faked like every other statement), Glue reads through its clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctlint.errors import EngineError
from ctlint.usage import athena_ddl as ddl
from ctlint.usage.athena_errors import NOT_FOUND_CODES, describe, error_code

if TYPE_CHECKING:
    from ctlint.usage.athena import AthenaEngine


def _glue_get(engine: AthenaEngine, method: str, doing: str, **kwargs: Any) -> dict | None:
    try:
        return getattr(engine.client("glue"), method)(**kwargs)
    except Exception as error:
        if error_code(error) in NOT_FOUND_CODES:
            return None
        raise describe(error, doing) from None


def _expected_properties(engine: AthenaEngine) -> dict[str, str]:
    return ddl.table_properties(engine.settings.location, engine.accounts, ddl.regions_for(engine.region))


def setup(engine: AthenaEngine) -> list[str]:
    """Create the database and the table if missing; update a stale projection. Idempotent."""
    s = engine.settings
    done: list[str] = []
    regions = ddl.regions_for(engine.region)
    try:
        database = _glue_get(engine, "get_database", f"reading Glue database {s.database}", Name=s.database)
        if database is None:
            engine.run_query("create-database", ddl.create_database_sql(s.database))
            done.append(f"created Athena database {s.database}")
        table = _glue_get(
            engine,
            "get_table",
            f"reading Glue table {s.qualified_table}",
            DatabaseName=s.database,
            Name=s.table_name,
        )
        if table is None:
            engine.run_query(
                "create-table",
                ddl.create_table_sql(s.database, s.table_name, s.location, engine.accounts, regions),
            )
            done.append(
                f"created Athena table {s.qualified_table} over {s.location.base} "
                f"(projection: {len(engine.accounts)} accounts, {len(regions)} regions, days since "
                f"{ddl.PROJECTION_START})"
            )
        else:
            current = table["Table"].get("Parameters", {})
            expected = _expected_properties(engine)
            stale = sorted(k for k, v in expected.items() if current.get(k) != v)
            if stale:
                if current.get(ddl.CREATOR_PROPERTY) != "ctlint":
                    raise EngineError(
                        f"Athena table {s.qualified_table} exists but was not created by ctlint; "
                        "set athena.table to another name."
                    )
                engine.run_query(
                    "update-table",
                    ddl.alter_table_properties_sql(
                        s.database, s.table_name, s.location, engine.accounts, regions
                    ),
                )
                done.append(f"updated Athena table {s.qualified_table} ({', '.join(stale)})")
        done.extend(_setup_aggregate(engine))
        engine.ready = True
        return done
    finally:
        engine.cleanup()
        engine.close()


def _setup_aggregate(engine: AthenaEngine) -> list[str]:
    """Create the aggregate table (or update its projection) when the config has aggregate_location."""
    from ctlint.usage import athena_aggregate as agg

    s = engine.settings
    name, location = s.aggregate_table_name, s.aggregate_location
    if name is None or location is None:
        return []
    table = _glue_get(
        engine, "get_table", f"reading Glue table {s.database}.{name}", DatabaseName=s.database, Name=name
    )
    if table is None:
        columns = [(column, kind) for column, kind, _ in agg.COLUMNS]
        engine.run_query(
            "create-aggregate-table", ddl.create_aggregate_table_sql(s.database, name, location, columns)
        )
        return [
            f"created Athena table {s.database}.{name} over {location} (daily aggregate, projected by day)"
        ]
    current = table["Table"].get("Parameters", {})
    stale = sorted(k for k, v in ddl.aggregate_table_properties(location).items() if current.get(k) != v)
    if not stale:
        return []
    if current.get(ddl.CREATOR_PROPERTY) != "ctlint":
        raise EngineError(
            f"Athena table {s.database}.{name} exists but was not created by ctlint; "
            "set athena.aggregate_table to another name."
        )
    engine.run_query("update-aggregate-table", ddl.alter_aggregate_table_sql(s.database, name, location))
    return [f"updated Athena table {s.database}.{name} ({', '.join(stale)})"]


def _drop_own_table(engine: AthenaEngine, name: str, query_name: str) -> bool:
    """Drop table `name` of ctlint's database if it exists; True when dropped. Never another's table."""
    database = engine.settings.database
    table = _glue_get(
        engine, "get_table", f"reading Glue table {database}.{name}", DatabaseName=database, Name=name
    )
    if table is None:
        return False
    if table["Table"].get("Parameters", {}).get(ddl.CREATOR_PROPERTY) != "ctlint":
        raise EngineError(f"Athena table {database}.{name} was not created by ctlint; not dropping it.")
    engine.run_query(query_name, ddl.drop_table_sql(database, name))
    return True


def teardown(engine: AthenaEngine) -> list[str]:
    """Drop ctlint's table and, when it holds nothing else and ctlint made it, its database."""
    s = engine.settings
    done: list[str] = []
    try:
        # Only the aggregate table: its Parquet files and markers stay in S3 (delete the prefix by hand).
        if s.aggregate_table_name is not None and _drop_own_table(
            engine, s.aggregate_table_name, "drop-aggregate-table"
        ):
            done.append(
                f"dropped Athena table {s.database}.{s.aggregate_table_name} "
                f"(its data stays in {s.aggregate_location})"
            )
        if _drop_own_table(engine, s.table_name, "drop-table"):
            done.append(f"dropped Athena table {s.qualified_table}")
        database = _glue_get(engine, "get_database", f"reading Glue database {s.database}", Name=s.database)
        if database is not None:
            params = database["Database"].get("Parameters", {})
            tables = _glue_get(
                engine, "get_tables", f"listing Glue tables of {s.database}", DatabaseName=s.database
            )
            others = [t["Name"] for t in (tables or {}).get("TableList", []) if t["Name"] != s.table_name]
            if params.get(ddl.CREATOR_PROPERTY) != "ctlint":
                done.append(f"kept Athena database {s.database}: ctlint did not create it")
            elif others:
                done.append(f"kept Athena database {s.database}: it holds {len(others)} other tables")
            else:
                engine.run_query("drop-database", ddl.drop_database_sql(s.database))
                done.append(f"dropped Athena database {s.database}")
        engine.ready = False
        return done
    finally:
        engine.cleanup()
        engine.close()
