"""Property tests on the event parser path (hypothesis).

- `map_event` never raises on arbitrary strings and always answers one of its three kinds.
- Random and mutated CloudTrail records, written as delivery files, never make the local engine fail
  with anything but InputError; valid records are all read and counted for the right principal.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctlint.errors import InputError
from ctlint.events import MAPPED, NO_IAM_ACTION, UNMAPPED, map_event
from ctlint.model import Window
from ctlint.usage.local import LocalEngine

WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))
A = "111111111111"
# CTLINT_PROPERTY_EXAMPLES=500 for a deeper run; the default keeps the file under 20 s.
EXAMPLES = int(os.environ.get("CTLINT_PROPERTY_EXAMPLES", "35"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SOURCES = st.sampled_from(
    [
        "s3.amazonaws.com",
        "iam.amazonaws.com",
        "ec2.amazonaws.com",
        "lambda.amazonaws.com",
        "sts.amazonaws.com",
        "monitoring.amazonaws.com",
        "signin.amazonaws.com",
        "apigateway.amazonaws.com",
        "S3.AMAZONAWS.COM",
    ]
)
NAMES = st.sampled_from(
    [
        "CreateBucket",
        "GetObject",
        "ListUsers",
        "DescribeInstances",
        "CreateFunction20150331",
        "UpdateFunctionCode20150331v2",
        "AssumeRole",
        "ConsoleLogin",
        "GetCallerIdentity",
        "PutMetricData",
        "CreateDistribution2016_11_25",
        "NoSuchOperationEver",
        "createbucket",
    ]
)


@FAST
@given(st.one_of(st.text(), SOURCES), st.one_of(st.text(), NAMES))
def test_map_event_never_raises(source, name):
    mapping = map_event(source, name)
    assert mapping.kind in (MAPPED, NO_IAM_ACTION, UNMAPPED)
    if mapping.kind == MAPPED:
        assert mapping.actions and all(":" in a for a in mapping.actions)
    else:
        assert mapping.actions == ()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_map_event_never_raises_on_any_text(source, name):
    assert map_event(source, name).kind in (MAPPED, NO_IAM_ACTION, UNMAPPED)


# ---------------------------------------------------------------- records through the engine

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
USERS = st.sampled_from(["alice", "bob", "o'brien", "名前", "x;--y"])
TIMES = st.builds(
    lambda d, h, m: f"2026-06-{d:02d}T{h:02d}:{m:02d}:00Z",
    st.integers(1, 30),
    st.integers(0, 23),
    st.integers(0, 59),
)


@st.composite
def valid_record(draw, index: int = 0) -> dict:
    user = draw(USERS)
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{A}:user/{user}",
            "accountId": A,
            "userName": user,
        },
        "eventTime": draw(TIMES),
        "eventSource": draw(SOURCES),
        "eventName": draw(NAMES),
        "awsRegion": "us-east-1",
        "requestParameters": draw(JSON),
        "responseElements": draw(JSON),
        "eventID": draw(st.uuids()).hex,
        "recipientAccountId": A,
    }


FIELDS = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "errorCode",
    "requestParameters",
    "responseElements",
    "eventID",
    "requestID",
    "recipientAccountId",
]


@st.composite
def mutated_record(draw) -> object:
    record = draw(valid_record())
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(FIELDS + ["userIdentity.arn", "userIdentity.type"]))
        action = draw(st.sampled_from(["delete", "replace"]))
        target, _, sub = key.partition(".")
        holder = record
        if sub:
            holder = record.get(target)
            if not isinstance(holder, dict):
                continue
            target = sub
        if action == "delete":
            holder.pop(target, None)
        else:
            holder[target] = draw(JSON)
    return draw(st.one_of(st.just(record), JSON)) if draw(st.integers(0, 9)) == 0 else record


def _write(folder: Path, records: list, *, gz: bool, ndjson: bool) -> Path:
    body = "".join(json.dumps(r) + "\n" for r in records) if ndjson else json.dumps({"Records": records})
    path = folder / ("f.json.gz" if gz else "f.json")
    path.write_bytes(gzip.compress(body.encode(), mtime=0) if gz else body.encode())
    return path


def _collect(folder: Path, **kwargs):
    engine = LocalEngine([folder], progress=False, cache=False, workers=1, **kwargs)
    try:
        return engine.collect(WINDOW, None), engine
    finally:
        engine.close()


@FAST
@given(st.lists(valid_record(), min_size=1, max_size=8), st.booleans(), st.booleans())
def test_valid_records_are_all_read_and_counted(records, gz, ndjson):
    # Each eventID once: duplicates are legitimately counted once.
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), records, gz=gz, ndjson=ndjson)
        raw, _ = _collect(Path(folder))
    assert raw.stats.read == len(records)
    assert raw.stats.counted == len(records)
    expected = Counter((r["userIdentity"]["arn"], r["eventSource"], r["eventName"]) for r in records)
    got = Counter()
    for row in raw.rows:
        got[(row.principal_arn, row.event_source, row.event_name)] += row.count
    assert got == expected


@FAST
@given(st.lists(mutated_record(), min_size=1, max_size=6), st.booleans(), st.booleans(), st.booleans())
def test_mutated_records_fail_only_with_input_error(records, gz, ndjson, skip_bad_records):
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), records, gz=gz, ndjson=ndjson)
        try:
            raw, _ = _collect(Path(folder), skip_bad_records=skip_bad_records)
        except InputError as error:
            message = str(error)
            assert "\n" not in message and "CloudTrail file" in message, message
            return
    assert raw.stats.read <= len(records)
    assert raw.stats.counted <= raw.stats.read


@FAST
@given(st.binary(max_size=200), st.booleans())
def test_random_bytes_fail_only_with_input_error(data, gz):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("f.json.gz" if gz else "f.json")
        path.write_bytes(gzip.compress(data, mtime=0) if gz and data[:1] != b"x" else data)
        try:
            _collect(Path(folder))
        except InputError as error:
            assert "\n" not in str(error) and str(path) in str(error)
