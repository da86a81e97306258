"""The one usage SQL text: parameters, transpiling, Athena literals and row conversion."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlglot
from cloudtrail_factory import assume_role_event, assumed_role, event, iam_user, role_arn, write_s3_layout

from ctlint.errors import EngineError, InputError
from ctlint.model import Window
from ctlint.usage.local import TABLE, LocalEngine
from ctlint.usage.sql import (
    QUERY_NAMES,
    athena_literal,
    parse_time,
    rows_to_raw_usage,
    to_duckdb,
    usage_queries,
)

A = "111111111111"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, 12, tzinfo=timezone.utc))


def test_queries_have_one_parameter_per_placeholder_and_no_values_inline():
    queries = usage_queries("cloudtrail", WINDOW, [A, "222222222222"])
    assert tuple(q.name for q in queries) == QUERY_NAMES
    for query in queries:
        assert query.text.count("?") == len(query.params), query.name
        assert A not in query.text and "2026" not in query.text  # values only as parameters
        assert all(isinstance(p, str) for p in query.params)
        sqlglot.parse_one(query.text, read="athena")  # valid Athena/Trino text
    principal = queries[0]
    assert principal.params == (
        "2026/06/01",
        "2026/07/01",
        "2026-06-01T00:00:00Z",
        "2026-07-01T12:00:00Z",
        A,
        "222222222222",
    )
    assume = queries[1]
    assert assume.params[:3] == ("2026/05/31", "2026/07/01", "2026-05-31T12:00:00Z")  # 12 h look-back


def test_no_account_filter_without_accounts():
    for query in usage_queries("cloudtrail", WINDOW, None):
        assert "account IN" not in query.text and len(query.params) in (4, 8)


def test_to_duckdb_keeps_placeholders_and_partitions():
    for query in usage_queries("ct", WINDOW, [A]):
        out = to_duckdb(query.text)
        assert out.count("?") == len(query.params)
        assert '"timestamp" >= ?' in out


@pytest.mark.parametrize("table", ["ct; DROP TABLE x", "a-b", "1abc", "x y", ""])
def test_table_name_must_be_an_identifier(table):
    with pytest.raises(InputError, match="not a plain SQL identifier"):
        usage_queries(table, WINDOW, None)


@pytest.mark.parametrize("account", ["12345", "1111111111111", "11111111111'", "x' OR '1'='1"])
def test_account_ids_are_validated(account):
    with pytest.raises(InputError, match="12-digit"):
        usage_queries("ct", WINDOW, [account])


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("2026/06/01", "'2026/06/01'"),
        ("arn:aws:iam::1:user/o'brien", "'arn:aws:iam::1:user/o''brien'"),
        ("x'; DROP TABLE t; --", "'x''; DROP TABLE t; --'"),
        ("ünïcödé", "'ünïcödé'"),
    ],
)
def test_athena_literal_quotes(value, literal):
    assert athena_literal(value) == literal
    # the literal is exactly one string token whatever the value holds
    tokens = sqlglot.tokenize(literal, read="athena")
    assert len(tokens) == 1 and tokens[0].text == value


@pytest.mark.parametrize("value", ["a\nb", "a\x00", "tab\there"])
def test_athena_literal_rejects_control_characters(value):
    with pytest.raises(InputError, match="control characters"):
        athena_literal(value)


def test_parse_time_forms():
    utc = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    assert parse_time("2026-06-01T12:00:00Z") == utc
    assert parse_time("2026-06-01 12:00:00.000") == utc
    assert parse_time(datetime(2026, 6, 1, 12)) == utc
    with pytest.raises(EngineError):
        parse_time("soon")


def test_rows_from_athena_strings_equal_rows_from_duckdb_values():
    typed = {
        "principal_usage": [
            (
                A,
                f"arn:aws:iam::{A}:user/a",
                "user",
                "s3.amazonaws.com",
                "ListBuckets",
                3,
                "2026-06-01T00:00:00Z",
                "2026-06-02T00:00:00Z",
            )
        ],
        "assume_role": [
            (
                f"arn:aws:iam::{A}:user/a",
                role_arn(A, "r"),
                "AssumeRole",
                None,
                1,
                "2026-06-01T00:00:00Z",
                "2026-06-01T00:00:00Z",
            )
        ],
        "session_usage": [],
        "events_per_account": [(A, 7)],
        "event_stats": [(7, 3, 1)],
        "identity_usage": [
            (
                A,
                role_arn(A, "r"),
                "alice@example.com",
                "s3.amazonaws.com",
                "ListBuckets",
                2,
                "2026-06-01T00:00:00Z",
                "2026-06-03T00:00:00Z",
            )
        ],
    }
    stringly = {
        name: [tuple("" if v is None else str(v) for v in row) for row in rows]
        for name, rows in typed.items()
    }
    one = rows_to_raw_usage(WINDOW, typed, engine="local")
    two = rows_to_raw_usage(WINDOW, stringly, engine="local")
    assert one == two
    assert one.rows[0].count == 3 and one.assumptions[0].access_key_id is None
    assert one.stats.read == 7 and dict(one.events_per_account) == {A: 7}
    assert one.identities[0].session == "alice@example.com" and one.identities[0].count == 2


def test_missing_result_is_an_engine_error():
    with pytest.raises(EngineError, match="session_usage"):
        rows_to_raw_usage(
            WINDOW,
            {"principal_usage": [], "assume_role": [], "events_per_account": [], "event_stats": [(0, 0, 0)]},
            engine="athena",
        )


def test_athena_substituted_text_gives_the_local_engine_result(tmp_path: Path):
    """What Athena runs (parameters spliced in as literals) transpiled to DuckDB equals the local run."""
    alice = iam_user(A, "alice")
    key = "ASIAEQUIV0000000001"
    write_s3_layout(
        tmp_path,
        [
            event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-02T00:00:00Z"),
            event(
                alice, "iam.amazonaws.com", "CreateUser", "2026-06-02T00:00:00Z", error_code="AccessDenied"
            ),
            assume_role_event(alice, role_arn(A, "admin"), key, "2026-05-31T20:00:00Z"),
            event(
                assumed_role(A, "admin", "alice", key),
                "ec2.amazonaws.com",
                "RunInstances",
                "2026-06-01T01:00:00Z",
            ),
        ],
    )
    engine = LocalEngine([tmp_path], progress=False)
    local = engine.collect(WINDOW, [A])
    results = {}
    for query in usage_queries(TABLE, WINDOW, [A]):
        pieces = query.text.split("?")  # no '?' occurs in our SQL except the placeholders
        spliced = pieces[0] + "".join(
            athena_literal(v) + rest for v, rest in zip(query.params, pieces[1:], strict=True)
        )
        results[query.name] = engine._con.execute(to_duckdb(spliced)).fetchall()
    assert rows_to_raw_usage(WINDOW, results, engine="local") == local
    assert local.sessions and local.assumptions and local.rows
