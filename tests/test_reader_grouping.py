"""The reader's aggregate rows against its own raw rows, on hostile record shapes (ctlint.usage.reader).

Aggregate mode collapses records equal in every value the SQL reads but their identity and exact time;
raw mode keeps one row per record. Whatever the
shapes (missing or null identities and contexts, empty error codes, accounts only in userIdentity,
numbers where strings belong, control characters, long strings, odd time forms), the aggregate rows must
be the raw rows grouped on the values the SQL reads: same multiset, first and last times the group's
extremes, no two rows with one key, and the same per-file counts, problem, eventID keys and time bounds.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctlint.usage.reader import ROW_COLUMNS, read_file
from ctlint.usage.sql import ASSUME_EVENTS

_KEY = [i for i, c in enumerate(ROW_COLUMNS) if c not in ("eventtime", "ct_eventtime_last", "ct_weight")]
_TIME = ROW_COLUMNS.index("eventtime")
_LAST = ROW_COLUMNS.index("ct_eventtime_last")
_WEIGHT = ROW_COLUMNS.index("ct_weight")
_SOURCE = ROW_COLUMNS.index("eventsource")
_NAME = ROW_COLUMNS.index("eventname")
_EVENT_ID = ROW_COLUMNS.index("eventid")
assert ROW_COLUMNS[_EVENT_ID + 1] == "requestid"

_texts = st.one_of(
    st.sampled_from(["a", "b", "", "arn:aws:iam::111111111111:role/r", "AKIA1", "AROA1:s"]),
    st.text(max_size=6),
    st.text(alphabet=st.characters(max_codepoint=31), min_size=1, max_size=4),  # control characters
    st.just("x" * 5000),
)
_values = st.one_of(st.none(), _texts, st.integers(-3, 3), st.booleans(), st.just({"k": [1]}))
_times = st.one_of(
    st.sampled_from(
        [
            "2026-03-01T10:00:00Z",
            "2026-03-01T10:00:01Z",
            "2026-03-01T23:59:59Z",
            "2026-03-02T00:00:00Z",
            "2026-03-01T10:00:00.5Z",
            "2026-03-01 10:00:00",
            "2026-03-02T01:00:00+02:00",
            "2026-02-30T10:00:00Z",  # no such day
            "2026-03-01T24:00:00Z",  # no such hour
            "2026-03-01T10:00:00",
        ]
    ),
    st.none(),
    st.integers(0, 5),
)


def _maybe(draw, strategy, key: str, into: dict) -> None:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return  # absent
    into[key] = None if choice == 1 else draw(strategy)


@st.composite
def _identity(draw, strings: st.SearchStrategy) -> object:
    shape = draw(st.integers(0, 4))
    if shape == 0:
        return None
    if shape == 1:
        return {}
    identity: dict = {}
    for key in ("type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId"):
        _maybe(draw, strings, key, identity)
    context = draw(st.integers(0, 4))
    if context == 1:
        identity["sessionContext"] = None
    elif context == 2:
        identity["sessionContext"] = {}
    elif context >= 3:
        inner: dict = {"sessionIssuer": None if context == 3 else {}}
        if context == 4:
            _maybe(draw, strings, "arn", inner["sessionIssuer"])
        _maybe(draw, strings, "sourceIdentity", inner)
        identity["sessionContext"] = inner
    return identity


@st.composite
def _records(draw) -> list:
    # Strings only (the typed fast path), or any JSON value (the tolerant path, as DuckDB would read it).
    strings = _texts if draw(st.booleans()) else _values
    times = _times if strings is _values else _times.filter(lambda t: type(t) is str or t is None)
    pool = [draw(_identity(strings)) for _ in range(draw(st.integers(1, 3)))]
    records = []
    for _ in range(draw(st.integers(1, 25))):
        record: dict = {"eventTime": draw(times)}
        source, name = draw(
            st.sampled_from(
                [
                    ("s3.amazonaws.com", "GetObject"),
                    ("ec2.amazonaws.com", "DescribeInstances"),
                    ("sts.amazonaws.com", "AssumeRole"),
                    ("sts.amazonaws.com", "GetCallerIdentity"),
                    ("", "GetObject"),
                    ("s3.amazonaws.com", None),
                ]
            )
        )
        record["eventSource"], record["eventName"] = source, name
        record["userIdentity"] = draw(st.sampled_from(pool))
        _maybe(draw, st.sampled_from(["111111111111", "222222222222", ""]), "recipientAccountId", record)
        _maybe(draw, st.sampled_from(["", "AccessDenied"]), "errorCode", record)
        _maybe(draw, st.uuids().map(str), "eventID", record)
        if name == "AssumeRole":
            record["requestParameters"] = {"roleArn": draw(strings)}
            record["responseElements"] = draw(
                st.one_of(st.none(), st.just({"credentials": {"accessKeyId": "A"}}))
            )
        records.append(record)
    return records


def _grouped(rows: list[tuple]) -> dict[tuple, list]:
    groups: dict[tuple, list] = defaultdict(lambda: [0, None, None])
    for row in rows:
        group = groups[tuple(row[i] for i in _KEY) + (row[_TIME][:10],)]
        group[0] += row[_WEIGHT]
        group[1] = row[_TIME] if group[1] is None else min(group[1], row[_TIME])
        group[2] = row[_LAST] if group[2] is None else max(group[2], row[_LAST])
    return dict(groups)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records(), gzipped=st.booleans())
def test_aggregate_rows_are_the_raw_rows_grouped_on_the_sql_values(tmp_path_factory, records, gzipped):
    path = tmp_path_factory.mktemp("reader") / ("f.json.gz" if gzipped else "f.json")
    text = json.dumps({"Records": records}).encode()
    path.write_bytes(gzip.compress(text) if gzipped else text)
    aggregate = read_file(str(path), mode="aggregate")
    raw = read_file(str(path), mode="raw")
    assert aggregate.error is None and raw.error is None
    for name in ("bad", "problem", "records", "ids", "time_min", "time_max", "kind"):
        assert getattr(aggregate, name) == getattr(raw, name), name
    assert sum(row[_WEIGHT] for row in aggregate.rows) == aggregate.records == len(raw.rows)
    # Every row but an STS AssumeRole* record's is one group: no two share the values the SQL reads.
    assume = [row[_SOURCE] == "sts.amazonaws.com" and row[_NAME] in ASSUME_EVENTS for row in aggregate.rows]
    keys = [tuple(row[i] for i in _KEY) + (row[_TIME][:10],) for row in aggregate.rows]
    grouped_keys = [key for key, kept in zip(keys, assume, strict=True) if not kept]
    assert len(grouped_keys) == len(set(grouped_keys))
    assert all(row[_TIME] <= row[_LAST] and row[_TIME][:10] == row[_LAST][:10] for row in aggregate.rows)

    # Raw rows carry their eventID and request id, grouped rows never do: compare without them.
    def without_ids(rows: list[tuple]) -> list[tuple]:
        return [
            row if row[_NAME] == "AssumeRole" else row[:_EVENT_ID] + (None, None) + row[_EVENT_ID + 2 :]
            for row in rows
        ]

    assert _grouped(without_ids(aggregate.rows)) == _grouped(without_ids(raw.rows))
