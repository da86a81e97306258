"""The answer cache: a second run on unchanged logs returns the stored result, and only then."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from cloudtrail_factory import assume_role_event, assumed_role, event, iam_user, role_arn, write_records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctlint.model import Window
from ctlint.usage.local import LocalEngine

A = "111111111111"
B = "222222222222"
UTC = timezone.utc


def window(start_day: int, end_day: int, end_month: int = 7) -> Window:
    return Window(datetime(2026, 6, start_day, tzinfo=UTC), datetime(2026, end_month, end_day, tzinfo=UTC))


def logs(folder: Path) -> Path:
    alice = iam_user(A, "alice")
    for d in (3, 4, 5):
        key = f"ASIAKEY{d:013d}"
        write_records(
            folder / f"2026-06-{d:02d}.json.gz",
            [
                event(alice, "s3.amazonaws.com", "ListBuckets", f"2026-06-{d:02d}T0{h}:00:00Z")
                for h in range(4)
            ]
            + [
                assume_role_event(alice, role_arn(A, "admin"), key, f"2026-06-{d:02d}T05:00:00Z"),
                event(
                    assumed_role(A, "admin", "alice", key),
                    "ec2.amazonaws.com",
                    "RunInstances",
                    f"2026-06-{d:02d}T05:10:00Z",
                ),
                event(
                    iam_user(B, "bob"),
                    "iam.amazonaws.com",
                    "ListUsers",
                    f"2026-06-{d:02d}T06:00:00Z",
                    account=B,
                ),
            ],
        )
    return folder


def run(folder: Path, cache_dir: Path | None, win: Window, accounts=None, **kwargs):
    engine = LocalEngine(
        [folder],
        progress=False,
        cache=cache_dir is not None,
        cache_dir=cache_dir,
        cache_min_bytes=0,
        **kwargs,
    )
    try:
        return engine.collect(win, accounts), engine
    finally:
        engine.close()


def fresh(folder: Path, win: Window, accounts=None, **kwargs):
    return run(folder, None, win, accounts, **kwargs)[0]


def test_a_second_run_is_answered_and_equals_a_fresh_run(tmp_path):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    first, engine = run(folder, cache, window(1, 1))
    assert "answered" not in engine.stats and engine.stats["read"] == 3
    second, engine = run(folder, cache, window(1, 1))
    assert engine.stats["answered"] == 1 and engine.stats["read"] == 0
    assert second == first == fresh(folder, window(1, 1))
    assert engine.records_loaded == 21 and second.stats.read == 21
    assert len(list(cache.glob("answers-v*/*.answer.json"))) == 1


def test_bounds_beyond_the_data_keep_the_answer_and_the_new_window(tmp_path):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    run(folder, cache, window(1, 1))
    later = window(2, 15)  # the start and the end both moved, but not past any event
    answer, engine = run(folder, cache, later)
    assert engine.stats.get("answered") == 1
    assert answer == fresh(folder, later) and answer.window == later


@pytest.mark.parametrize(
    "changed",
    [
        window(4, 1),  # the start moved past events
        Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 5, 5, 30, tzinfo=UTC)),  # the end did
    ],
    ids=["start", "end"],
)
def test_a_bound_that_moves_past_events_is_a_new_question(tmp_path, changed):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    run(folder, cache, window(1, 1))
    answer, engine = run(folder, cache, changed)
    assert "answered" not in engine.stats
    assert answer == fresh(folder, changed) != fresh(folder, window(1, 1))


def test_other_accounts_options_or_files_are_new_questions(tmp_path):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    run(folder, cache, window(1, 1))
    answer, engine = run(folder, cache, window(1, 1), [B])
    assert "answered" not in engine.stats and answer == fresh(folder, window(1, 1), [B])
    _, engine = run(folder, cache, window(1, 1), skip_bad_records=True)
    assert "answered" not in engine.stats
    changed = folder / "2026-06-04.json.gz"
    write_records(
        changed,
        [event(iam_user(A, "carol"), "sts.amazonaws.com", "GetCallerIdentity", "2026-06-04T00:00:00Z")],
    )
    os.utime(changed, ns=(1, 1))
    answer, engine = run(folder, cache, window(1, 1))
    assert "answered" not in engine.stats and answer == fresh(folder, window(1, 1))
    assert any(r.principal_arn.endswith("/carol") for r in answer.rows)


def test_skipped_files_and_their_messages_are_replayed(tmp_path):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    (folder / "broken.json").write_text("{not json")
    options = {"skip_bad_files": True, "max_skipped_share": 0.5}
    first, engine = run(folder, cache, window(1, 1), **options)
    messages = engine.skip_messages
    second, engine = run(folder, cache, window(1, 1), **options)
    assert engine.stats.get("answered") == 1
    assert second == first and second.skipped_files == (str(folder / "broken.json"),)
    assert engine.skip_messages == messages and "broken.json" in messages[0]


@pytest.mark.parametrize(
    "damage",
    [
        "garbage",
        "other-format",
        "wrong-types",
        "missing-part",
        "bad-reference",
        "ragged",
        "other-file-set",
        "bad-bounds",
    ],
)
def test_a_damaged_answer_file_is_ignored_and_replaced(tmp_path, damage):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    expected, _ = run(folder, cache, window(1, 1))
    path = next(cache.glob("answers-v*/*.answer.json"))
    if damage == "bad-bounds":
        path = next(cache.glob("answers-v*/*.bounds.json"))
    document = orjson.loads(path.read_bytes())
    answer = document.get("answer")
    if damage == "garbage":
        path.write_bytes(b"\x00not json")
    elif damage == "other-format":
        document["format"] = 999
    elif damage == "wrong-types":
        answer["tables"]["rows"][5][0] = "12"  # a count as text
    elif damage == "missing-part":
        del answer["tables"]["sessions"]
    elif damage == "bad-reference":
        answer["tables"]["rows"][1][0] = len(answer["strings"]) + 5  # a principal that is no string
    elif damage == "ragged":
        answer["tables"]["rows"][0].pop()  # one column shorter than the others
    elif damage == "other-file-set":
        document["file_set"] = "0" * 64  # e.g. a name collision: not this run's logs
    else:
        document["bounds"] = "not a pair"
    if damage != "garbage":
        path.write_bytes(orjson.dumps(document))
    answer_after, engine = run(folder, cache, window(1, 1))
    assert "answered" not in engine.stats and answer_after == expected
    again, engine = run(folder, cache, window(1, 1))
    assert engine.stats.get("answered") == 1 and again == expected  # rebuilt


def test_answers_off_or_exact_mode_never_answer(tmp_path):
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    run(folder, cache, window(1, 1))
    for kwargs in ({"answers": False}, {"exact": True}):
        _, engine = run(folder, cache, window(1, 1), **kwargs)
        assert "answered" not in engine.stats


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bounds=st.lists(st.tuples(st.integers(0, 24 * 8), st.integers(1, 24 * 8)), min_size=2, max_size=4))
def test_any_sequence_of_windows_gives_fresh_results(tmp_path_factory, bounds):
    folder = tmp_path_factory.mktemp("logs")
    logs(folder)
    cache = tmp_path_factory.mktemp("cache")
    origin = datetime(2026, 6, 1, tzinfo=UTC)
    for start_hours, length in bounds:
        win = Window(origin + timedelta(hours=start_hours), origin + timedelta(hours=start_hours + length))
        assert run(folder, cache, win)[0] == fresh(folder, win)


def test_encoding_round_trips_every_value():
    from ctlint.model import AssumeRoleRow, EventStats, RawUsage, SessionUsageRow, UsageRow
    from ctlint.usage.answers import Answer, _decode, _encode

    t1 = datetime(2026, 6, 1, 10, 0, 0, tzinfo=UTC)
    t2 = datetime(2026, 6, 2, 11, 30, 5, 123456, tzinfo=UTC)  # fractions survive
    usage = RawUsage(
        window=window(1, 1),
        rows=(
            UsageRow(
                A, 'arn:aws:iam::111111111111:user/é"x', "user", "s3.amazonaws.com", "ListBuckets", 3, t1, t2
            ),
        ),
        assumptions=(
            AssumeRoleRow("src", "role", "AssumeRole", None, 1, t1, t1),
            AssumeRoleRow("src", "role", "AssumeRole", "ASIAKEY", 2, t1, t2),
        ),
        sessions=(SessionUsageRow("src", "role", A, "ec2.amazonaws.com", "RunInstances", 4, t2, t2),),
        events_per_account={A: 7, B: 1},
        stats=EventStats(read=8, counted=6, errors=1),
        skipped_files=("bad.json",),
    )
    answer = Answer(usage, ("bad.json is broken",), 8, 1)
    assert _decode(orjson.loads(orjson.dumps(_encode(answer))), usage.window) == answer


def test_only_the_newest_answers_are_kept(tmp_path, monkeypatch):
    from ctlint.usage import answers as answers_mod

    monkeypatch.setattr(answers_mod, "KEEP_FILES", 2)
    folder, cache = logs(tmp_path / "logs"), tmp_path / "cache"
    seen: set[Path] = set()
    for end_hour in (1, 2, 3):  # three questions (the end moves past events each time)
        run(
            folder,
            cache,
            Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 5, end_hour, tzinfo=UTC)),
        )
        for path in set(cache.glob("answers-v*/*.answer.json")) - seen:  # distinct ages even on coarse clocks
            os.utime(path, (1_000_000 * end_hour, 1_000_000 * end_hour))
            seen.add(path)
    assert len(list(cache.glob("answers-v*/*.answer.json"))) == 2
    _, engine = run(
        folder, cache, Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 5, 3, tzinfo=UTC))
    )
    assert engine.stats.get("answered") == 1  # the newest is there
    _, engine = run(
        folder, cache, Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 5, 1, tzinfo=UTC))
    )
    assert "answered" not in engine.stats  # the oldest was dropped
