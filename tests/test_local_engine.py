"""The DuckDB engine over CloudTrail files, built with the record factory."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from cloudtrail_factory import (
    assume_role_event,
    assumed_role,
    aws_service,
    event,
    iam_user,
    role_arn,
    saml_user,
    web_identity_user,
    write_records,
    write_s3_layout,
)

from ctlint.errors import InputError
from ctlint.model import Window
from ctlint.usage.base import UsageEngine
from ctlint.usage.local import LocalEngine

A = "111111111111"
B = "222222222222"
ALICE = f"arn:aws:iam::{A}:user/alice"
ADMIN = role_arn(A, "admin")
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def collect(paths, window=WINDOW, accounts=None, **kwargs):
    return LocalEngine([Path(p) for p in paths], progress=False, **kwargs).collect(window, accounts)


def by_principal(raw):
    return {(r.principal_arn, r.event_source, r.event_name): r for r in raw.rows}


def test_is_a_usage_engine(tmp_path):
    assert isinstance(LocalEngine([tmp_path]), UsageEngine)


def test_users_roles_services_errors_and_window(tmp_path):
    alice = iam_user(A, "alice")
    role = assumed_role(A, "admin", "alice", "ASIAADMIN00000000001")
    records = [
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-01T00:00:00Z"),  # start is inclusive
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-15T10:00:00Z"),
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-07-01T00:00:00Z"),  # end is exclusive
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-05-31T23:59:59Z"),  # before
        event(alice, "iam.amazonaws.com", "CreateUser", "2026-06-02T00:00:00Z", error_code="AccessDenied"),
        event(role, "ec2.amazonaws.com", "DescribeInstances", "2026-06-03T00:00:00Z"),
        event(aws_service(), "kms.amazonaws.com", "Decrypt", "2026-06-03T00:00:00Z", account=A),
        event(None, "signin.amazonaws.com", "ConsoleLogin", "2026-06-04T00:00:00Z", account=A),
    ]
    write_s3_layout(tmp_path, records)
    raw = collect([tmp_path])
    rows = by_principal(raw)
    assert set(rows) == {
        (ALICE, "s3.amazonaws.com", "CreateBucket"),
        (ADMIN, "ec2.amazonaws.com", "DescribeInstances"),
    }
    bucket = rows[(ALICE, "s3.amazonaws.com", "CreateBucket")]
    assert bucket.count == 2 and bucket.principal_type == "user" and bucket.account_id == A
    assert bucket.first_seen == datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert bucket.last_seen == datetime(2026, 6, 15, 10, tzinfo=timezone.utc)
    assert rows[(ADMIN, "ec2.amazonaws.com", "DescribeInstances")].principal_type == "role"
    assert raw.stats.read == 6 and raw.stats.errors == 1 and raw.stats.counted == 3
    assert dict(raw.events_per_account) == {A: 6}
    assert raw.engine == "local"


def test_formats_plain_gzip_ndjson_and_duplicate_delivery(tmp_path):
    alice = iam_user(A, "alice")
    recs = [event(alice, "s3.amazonaws.com", "ListBuckets", f"2026-06-0{d}T00:00:00Z") for d in (1, 2, 3)]
    write_records(tmp_path / "a.json", recs[:1])
    write_records(tmp_path / "sub" / "b.json.gz", recs[1:2])
    write_records(tmp_path / "c.json", recs[2:], ndjson=True)
    (tmp_path / "ignored.txt").write_text("not a CloudTrail file")
    raw = collect([tmp_path])
    assert by_principal(raw)[(ALICE, "s3.amazonaws.com", "ListBuckets")].count == 3
    # CloudTrail can deliver a file twice: the copy must not double the counts.
    shutil.copy(tmp_path / "a.json", tmp_path / "a-again.json")
    raw = collect([tmp_path])
    assert by_principal(raw)[(ALICE, "s3.amazonaws.com", "ListBuckets")].count == 3
    assert raw.stats.read == 3


def test_glob_and_accounts_filter(tmp_path):
    records = [
        event(iam_user(A, "alice"), "s3.amazonaws.com", "ListBuckets", "2026-06-02T00:00:00Z"),
        event(iam_user(B, "bob"), "s3.amazonaws.com", "ListBuckets", "2026-06-02T00:00:00Z"),
    ]
    write_s3_layout(tmp_path, records)
    raw = collect([str(tmp_path / "AWSLogs" / "*")], accounts=[B])
    assert [r.principal_arn for r in raw.rows] == [f"arn:aws:iam::{B}:user/bob"]
    assert dict(raw.events_per_account) == {B: 1}


def test_assume_role_sessions_chaining_and_lookback(tmp_path):
    alice = iam_user(A, "alice")
    key, chained_key, early_key, stale_key = (f"ASIAKEY{i:013d}" for i in range(4))
    as_admin = assumed_role(A, "admin", "alice", key)
    records = [
        assume_role_event(alice, ADMIN, key, "2026-06-02T10:00:00Z"),
        event(as_admin, "iam.amazonaws.com", "CreateUser", "2026-06-02T10:05:00Z"),
        event(as_admin, "iam.amazonaws.com", "CreateUser", "2026-06-02T10:06:00Z"),
        # role chaining: admin assumes deploy; the source is the admin role
        assume_role_event(as_admin, role_arn(A, "deploy"), chained_key, "2026-06-02T10:10:00Z"),
        event(
            assumed_role(A, "deploy", "x", chained_key),
            "s3.amazonaws.com",
            "PutBucketPolicy",
            "2026-06-02T10:11:00Z",
        ),
        # began 2 h before the window: its in-window actions are still alice's as admin
        assume_role_event(alice, ADMIN, early_key, "2026-05-31T22:00:00Z"),
        event(
            assumed_role(A, "admin", "alice", early_key),
            "ec2.amazonaws.com",
            "RunInstances",
            "2026-06-01T00:30:00Z",
        ),
        event(
            assumed_role(A, "admin", "alice", early_key),
            "ec2.amazonaws.com",
            "RunInstances",
            "2026-05-31T23:00:00Z",
        ),
        # began 13 h before: beyond the longest session, not looked up
        assume_role_event(alice, ADMIN, stale_key, "2026-05-31T11:00:00Z"),
        event(
            assumed_role(A, "admin", "alice", stale_key),
            "ec2.amazonaws.com",
            "StopInstances",
            "2026-06-01T00:30:00Z",
        ),
    ]
    write_s3_layout(tmp_path, records)
    raw = collect([tmp_path])
    edges = {(a.source_arn, a.role_arn, a.access_key_id): a.count for a in raw.assumptions}
    assert edges == {
        (ALICE, ADMIN, key): 1,
        (ADMIN, role_arn(A, "deploy"), chained_key): 1,
        (ALICE, ADMIN, early_key): 1,
    }
    sessions = {(s.source_arn, s.role_arn, s.event_name): s.count for s in raw.sessions}
    assert sessions == {
        (ALICE, ADMIN, "CreateUser"): 2,
        (ALICE, ADMIN, "AssumeRole"): 1,  # the chaining call used alice's admin session
        (ALICE, ADMIN, "RunInstances"): 1,
        (ADMIN, role_arn(A, "deploy"), "PutBucketPolicy"): 1,
    }
    # the role's own usage counts whoever assumed it (StopInstances included)
    assert (ADMIN, "ec2.amazonaws.com", "StopInstances") in by_principal(raw)


def test_cross_account_assumption_counted_once(tmp_path):
    alice = iam_user(A, "alice")
    target = role_arn(B, "backup")
    key = "ASIACROSS0000000001"
    call = assume_role_event(alice, target, key, "2026-06-05T08:00:00Z", account=A)
    copy = dict(call, recipientAccountId=B, eventID="another-event-id-in-b")  # same requestID
    action = event(
        assumed_role(B, "backup", "alice", key), "s3.amazonaws.com", "CreateBucket", "2026-06-05T08:01:00Z"
    )
    write_s3_layout(tmp_path, [call, copy, action])
    raw = collect([tmp_path])
    assert [(a.source_arn, a.role_arn, a.count) for a in raw.assumptions] == [(ALICE, target, 1)]
    assert [(s.source_arn, s.role_arn, s.account_id, s.event_name) for s in raw.sessions] == [
        (ALICE, target, B, "CreateBucket")
    ]
    assert dict(raw.events_per_account) == {A: 1, B: 2}


def test_saml_and_web_identity_sources(tmp_path):
    provider = f"arn:aws:iam::{A}:saml-provider/Okta"
    records = [
        assume_role_event(
            saml_user(),
            ADMIN,
            "ASIASAML00000000001",
            "2026-06-02T00:00:00Z",
            account=A,
            event_name="AssumeRoleWithSAML",
            principal_arn=provider,
        ),
        assume_role_event(
            web_identity_user(),
            role_arn(A, "web"),
            "ASIAWEB000000000001",
            "2026-06-02T00:00:00Z",
            account=A,
            event_name="AssumeRoleWithWebIdentity",
            provider="accounts.google.com",
        ),
    ]
    write_s3_layout(tmp_path, records)
    raw = collect([tmp_path])
    assert {(a.source_arn, a.role_arn, a.event_name) for a in raw.assumptions} == {
        (provider, ADMIN, "AssumeRoleWithSAML"),
        ("accounts.google.com", role_arn(A, "web"), "AssumeRoleWithWebIdentity"),
    }


def test_no_secret_reaches_results(tmp_path):
    call = assume_role_event(iam_user(A, "alice"), ADMIN, "ASIASECRET000000001", "2026-06-02T00:00:00Z")
    write_s3_layout(tmp_path, [call])
    engine = LocalEngine([tmp_path], progress=False)
    raw = engine.collect(WINDOW, None)
    token = call["responseElements"]["credentials"]["sessionToken"]
    assert token not in repr(raw)
    stored = engine._con.execute("SELECT responseelements FROM cloudtrail").fetchall()
    assert token not in repr(stored) and "ASIASECRET000000001" in repr(stored)


def test_lenient_time_forms_are_normalised(tmp_path):
    alice = iam_user(A, "alice")
    write_records(
        tmp_path / "x.json",
        [
            event(alice, "s3.amazonaws.com", "ListBuckets", "2026-06-02 10:00:00"),
            event(alice, "s3.amazonaws.com", "ListBuckets", "2026-06-02T12:00:00.000+02:00"),
        ],
    )
    row = collect([tmp_path]).rows[0]
    assert row.count == 2 and row.first_seen == datetime(2026, 6, 2, 10, tzinfo=timezone.utc)
    assert row.last_seen == datetime(2026, 6, 2, 10, tzinfo=timezone.utc)


# ---------------------------------------------------------------- bad input


def _good(tmp_path: Path) -> Path:
    return write_records(
        tmp_path / "good.json",
        [event(iam_user(A, "alice"), "s3.amazonaws.com", "ListBuckets", "2026-06-02T00:00:00Z")],
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "trunc.json.gz",
            gzip.compress(json.dumps({"Records": [{"eventName": "x"}] * 50}).encode(), mtime=0)[:-30],
            "trunc.json.gz",
        ),
        ("notgzip.json.gz", b"plain text, not gzip", "cannot be read"),
        ("notjson.json", b"this is not json", "not readable CloudTrail JSON"),
        (
            "nosource.json",
            json.dumps({"Records": [{"eventName": "X", "eventTime": "2026-06-02T00:00:00Z"}]}).encode(),
            "record 1 has no eventSource",
        ),
        (
            "notime.json",
            json.dumps({"Records": [{"eventName": "X", "eventSource": "s3.amazonaws.com"}]}).encode(),
            "has no eventTime",
        ),
        (
            "badtime.json",
            json.dumps(
                {"Records": [{"eventName": "X", "eventSource": "s", "eventTime": "yesterday"}]}
            ).encode(),
            "unreadable eventTime yesterday",
        ),
        ("empty.json", b"", "is empty"),
    ],
)
def test_bad_files_fail_closed_or_are_skipped(tmp_path, name, content, message):
    _good(tmp_path)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError) as caught:
        collect([tmp_path])
    assert message in str(caught.value) and name in str(caught.value)
    raw = collect([tmp_path], skip_bad_files=True, max_skipped_share=0.5)
    assert raw.skipped_files == (str(tmp_path / name),)
    assert raw.stats.read == 1
    with pytest.raises(InputError, match="1 of 2 CloudTrail files are unreadable"):
        collect([tmp_path], skip_bad_files=True, max_skipped_share=0.1)


def test_bad_records_can_be_dropped_one_by_one(tmp_path):
    _good(tmp_path)
    write_records(
        tmp_path / "mixed.json",
        [
            {"eventName": "X", "eventSource": "s3.amazonaws.com"},
            event(iam_user(A, "bob"), "s3.amazonaws.com", "ListBuckets", "2026-06-03T00:00:00Z"),
        ],
    )
    engine = LocalEngine([tmp_path], progress=False, skip_bad_records=True)
    raw = engine.collect(WINDOW, None)
    assert raw.stats.read == 2 and engine.records_skipped == 1 and raw.skipped_files == ()


def test_missing_and_empty_inputs(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        collect([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no CloudTrail files"):
        collect([tmp_path / "empty"])
    with pytest.raises(InputError, match="matches no file"):
        collect([str(tmp_path / "empty" / "*.json")])


def test_record_without_user_identity_counts_for_nobody(tmp_path):
    write_records(
        tmp_path / "x.json",
        [event(None, "signin.amazonaws.com", "ConsoleLogin", "2026-06-02T00:00:00Z", account=A)],
    )
    raw = collect([tmp_path])
    assert raw.rows == () and raw.stats.read == 1 and raw.stats.counted == 0


def test_real_records(tmp_path):
    folder = SHARED / "realdata" / "cloudtrail-records"
    if not folder.is_dir():
        pytest.skip("../shared/realdata is not present on this machine")
    everything = Window(datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(InputError, match="panther-labs__panther-analysis.json.gz"):
        collect([folder], window=everything)  # sanitised fixtures without eventTime: strict mode refuses
    engine = LocalEngine([folder], progress=False, skip_bad_records=True)
    raw = engine.collect(everything, None)
    assert engine.records_loaded + engine.records_skipped == 4230
    assert raw.stats.read > 4200 and raw.stats.errors > 0 and len(raw.assumptions) > 10 and raw.sessions


# ---------------------------------------------------------------- weighted rows ≡ one row per event

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ctlint.errors import EngineError  # noqa: E402
from ctlint.usage import local as local_mod  # noqa: E402
from ctlint.usage.weighted import weighted  # noqa: E402

_PEOPLE = [iam_user(A, "alice"), iam_user(B, "bob")]
_KEYS = ["ASIAHYPO000000000001", "ASIAHYPO000000000002"]
_ROLES = [assumed_role(A, "admin", "s", _KEYS[0]), assumed_role(B, "ops", "s", _KEYS[1])]
_ACTIONS = [
    ("s3.amazonaws.com", "ListBuckets"),
    ("ec2.amazonaws.com", "RunInstances"),
    ("iam.amazonaws.com", "GetUser"),
]


@st.composite
def _trail(draw):
    files = []
    for _ in range(draw(st.integers(1, 4))):
        records = []
        for _ in range(draw(st.integers(1, 12))):
            moment = (
                datetime(2026, 5, 31, 6, tzinfo=timezone.utc).timestamp()
                + draw(st.integers(0, 40 * 3600)) * 60
            )
            when = datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            kind = draw(st.integers(0, 9))
            if kind == 0:
                who, key = draw(st.sampled_from(list(zip(_PEOPLE, _KEYS, strict=True))))
                records.append(assume_role_event(who, role_arn(who["accountId"], "admin"), key, when))
                continue
            who = draw(st.sampled_from(_PEOPLE + _ROLES))
            source, name = draw(st.sampled_from(_ACTIONS))
            error = "AccessDenied" if draw(st.integers(0, 6)) == 0 else None
            records.append(event(who, source, name, when, error_code=error))
        files.append(records)
    duplicate = draw(st.booleans())
    start_hour = draw(st.integers(0, 47))
    return files, duplicate, start_hour


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_trail())
def test_weighted_rows_give_exactly_the_one_row_per_event_result(tmp_path_factory, trail):
    """Random trails and windows starting at any hour: aggregate mode equals the unchanged SQL on raw rows."""
    files, duplicate, start_hour = trail
    folder = tmp_path_factory.mktemp("trail")
    for i, records in enumerate(files):
        write_records(folder / f"f{i}.json.gz", records)
    if duplicate:
        shutil.copy(folder / "f0.json.gz", folder / "f0-again.json.gz")
    start = datetime(2026, 5, 31, tzinfo=timezone.utc).timestamp() + start_hour * 3600
    window = Window(
        datetime.fromtimestamp(start, timezone.utc),
        datetime.fromtimestamp(start + 30 * 3600 + 1234, timezone.utc),
    )
    exact = LocalEngine([folder], progress=False, exact=True).collect(window, None)
    engine = LocalEngine([folder], progress=False, cache=False)
    fast = engine.collect(window, None)
    assert fast == exact
    # Without duplicates the dedupe window is dropped (without_dedupe); with them it runs.
    assert bool(engine._dups) == (duplicate and bool(files[0]))


def test_weighted_rewrite_refuses_what_it_cannot_weigh():
    with pytest.raises(EngineError, match="does not support the aggregate"):
        weighted("SELECT sum(calls) FROM cloudtrail", "cloudtrail")
    with pytest.raises(EngineError, match="two weighted sources"):
        weighted("SELECT count(*) FROM cloudtrail a JOIN cloudtrail b ON a.eventid = b.eventid", "cloudtrail")
    text = weighted(
        "WITH e AS (SELECT eventtime FROM cloudtrail) SELECT count(*), max(eventtime) FROM e", "cloudtrail"
    )
    assert "SUM(e.ct_weight)" in text and "MAX(ct_eventtime_last)" in text


def test_worker_processes_give_the_in_process_result(tmp_path, monkeypatch):
    alice = iam_user(A, "alice")
    for d in range(1, 9):
        write_records(
            tmp_path / f"d{d}.json.gz",
            [event(alice, "s3.amazonaws.com", "ListBuckets", f"2026-06-0{d}T10:00:00Z")] * 3,
        )
    single = LocalEngine([tmp_path], progress=False, cache=False, workers=1).collect(WINDOW, None)
    monkeypatch.setattr(local_mod, "PARALLEL_MIN_BYTES", 0)
    engine = LocalEngine([tmp_path], progress=True, cache=False, workers=2)
    assert engine.collect(WINDOW, None) == single


def test_progress_goes_to_stderr_only_when_asked(tmp_path, capsys):
    _good(tmp_path)
    LocalEngine([tmp_path], progress=False).collect(WINDOW, None)
    assert capsys.readouterr().err == ""
    LocalEngine([tmp_path], progress=True).collect(WINDOW, None)
    err = capsys.readouterr().err
    assert "1/1 files" in err and "events/s" in err


def test_rows_straddling_a_mid_day_window_bound_are_split_by_event(tmp_path):
    alice = iam_user(A, "alice")
    write_records(
        tmp_path / "day.json.gz",
        [
            event(alice, "s3.amazonaws.com", "ListBuckets", f"2026-06-02T{h:02d}:00:00Z")
            for h in (8, 10, 14, 16, 20)
        ],
    )
    window = Window(
        datetime(2026, 6, 2, 12, tzinfo=timezone.utc), datetime(2026, 6, 2, 18, tzinfo=timezone.utc)
    )
    engine = LocalEngine([tmp_path], progress=False, cache=False)
    row = engine.collect(window, None).rows[0]
    assert row.count == 2 and engine.stats["raw_files"] == 1
    assert (row.first_seen.hour, row.last_seen.hour) == (14, 16)
    whole_day = Window(datetime(2026, 6, 2, tzinfo=timezone.utc), datetime(2026, 6, 3, tzinfo=timezone.utc))
    assert engine.collect(whole_day, None).rows[0].count == 5 and engine.stats["raw_files"] == 0


def test_memory_limit_spills_or_is_lifted_and_the_spill_folder_goes_away(tmp_path, monkeypatch):
    alice = iam_user(A, "alice")
    records = [
        event(
            alice,
            "s3.amazonaws.com",
            f"Op{i % 50}",
            f"2026-06-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
            event_id=f"{i:08d}-0000-4000-8000-000000000000",
        )
        for i in range(3000)
    ]
    write_records(tmp_path / "logs" / "a.json", records)

    def limit(engine):
        return engine._con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    def as_printed(setting: str) -> str:  # how DuckDB prints a limit back, e.g. 400MB -> '381.4 MiB'
        scratch = duckdb.connect()
        scratch.execute(f"SET memory_limit='{setting}'")
        return scratch.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    normal = LocalEngine([tmp_path / "logs"], progress=False, cache=False)
    expected = normal.collect(WINDOW, None)
    assert limit(normal) == as_printed(local_mod.MEMORY_LIMIT) and expected.stats.read == 3000
    monkeypatch.setattr(local_mod, "MEMORY_LIMIT", "1MB")  # too small even to spill: lifted, same answer
    engine = LocalEngine([tmp_path / "logs"], progress=False, cache=False)
    assert engine.collect(WINDOW, None) == expected
    assert limit(engine) not in (as_printed("1MB"), as_printed("400MB"))
    spill = Path(engine._spill.name)
    assert spill.is_dir()
    engine.close()
    assert not spill.exists()


def test_the_dedupe_window_is_dropped_only_where_it_is_found():
    from ctlint.usage.sql import usage_queries
    from ctlint.usage.weighted import without_dedupe

    for query in usage_queries("cloudtrail", WINDOW, None):
        text = without_dedupe(query.text)
        assert "ROW_NUMBER" not in text.upper() and text.count("?") == query.text.count("?")
        if "copy_no" in query.text:
            assert "1 AS copy_no" in text
    with pytest.raises(EngineError, match="dedupe window was not found"):
        without_dedupe("SELECT row_number() OVER (PARTITION BY eventname) FROM cloudtrail")


def test_a_query_that_cannot_spill_runs_again_on_a_fresh_unlimited_database(tmp_path, monkeypatch):
    alice = iam_user(A, "alice")
    write_records(
        tmp_path / "logs" / "a.json",
        [event(alice, "s3.amazonaws.com", "ListBuckets", f"2026-06-0{d}T10:00:00Z") for d in range(1, 8)],
    )
    expected = LocalEngine([tmp_path / "logs"], progress=False, cache=False).collect(WINDOW, None)
    real = LocalEngine._collect
    calls = []

    def first_fails(self, con, window, accounts):
        calls.append(con)
        if len(calls) == 1:
            raise duckdb.OutOfMemoryException("injected: could not allocate block")
        return real(self, con, window, accounts)

    monkeypatch.setattr(LocalEngine, "_collect", first_fails)
    engine = LocalEngine([tmp_path / "logs"], progress=False, cache=False)
    assert engine.collect(WINDOW, None) == expected
    assert len(calls) == 2 and calls[0] is not calls[1]  # a new database, not the failed one
    limit = engine._con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    scratch = duckdb.connect()
    scratch.execute(f"SET memory_limit='{local_mod.MEMORY_LIMIT}'")
    assert limit != scratch.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    engine.close()
