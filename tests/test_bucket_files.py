"""What a real trail bucket holds: event logs beside digests and Insights files, and the other formats
people point ctlint at (lookup-events output, NDJSON, one event, a ZIP, some other JSON)."""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cloudtrail_factory import (
    digest_document,
    event,
    iam_user,
    insight_record,
    write_records,
    write_s3_sync_tree,
)

from ctlint.cli import main
from ctlint.errors import InputError
from ctlint.model import Window
from ctlint.usage.local import LocalEngine

A, B, C = "111111111111", "222222222222", "333333333333"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))
BASE = Path(__file__).resolve().parent / "malformed" / "base"


def _engine(paths, **kwargs) -> LocalEngine:
    return LocalEngine([Path(p) for p in paths], progress=False, cache=False, **kwargs)


def _trail_records() -> list[dict]:
    records = []
    for account in (A, B):
        user = iam_user(account, "alice")
        for region in ("us-east-1", "eu-west-1"):
            for day in ("02", "03"):
                records.append(
                    event(user, "s3.amazonaws.com", "ListBuckets", f"2026-06-{day}T10:00:00Z", region=region)
                )
    return records


def _bucket(root: Path) -> dict[str, list[Path]]:
    """A synced bucket: two accounts' own trail and a third account under an organisation trail prefix."""
    own = write_s3_sync_tree(root, _trail_records())
    org = write_s3_sync_tree(
        root,
        [event(iam_user(C, "carol"), "ec2.amazonaws.com", "DescribeInstances", "2026-06-04T09:00:00Z")],
        org_id="o-abc123def4",
    )
    return {kind: own[kind] + org[kind] for kind in own}


def test_a_synced_bucket_is_read_and_its_neighbours_counted(tmp_path):
    written = _bucket(tmp_path / "bucket")
    assert len(written["logs"]) == 9 and len(written["digests"]) == 9 and len(written["insights"]) == 9
    assert any("/AWSLogs/o-abc123def4/333333333333/CloudTrail/" in p.as_posix() for p in written["logs"])
    engine = _engine([tmp_path / "bucket"])
    raw = engine.collect(WINDOW, [A, B, C])
    assert dict(raw.events_per_account) == {A: 4, B: 4, C: 1}
    assert engine.skipped_files == ()
    assert engine.not_event_logs == {"digest": 9, "insight": 9}
    assert engine.records_loaded == 9


def test_neighbours_outside_the_layout_are_known_by_their_content(tmp_path):
    """Copies renamed and moved out of CloudTrail-Digest/ and CloudTrail-Insight/ are still recognised."""
    write_records(tmp_path / "logs" / "events.json", _trail_records())
    digest = digest_document(A, "us-east-1", "2026-06-02T11:00:00Z", ["AWSLogs/x.json.gz"])
    (tmp_path / "logs" / "a.json.gz").write_bytes(gzip.compress(json.dumps(digest).encode()))
    write_records(tmp_path / "logs" / "b.json", [insight_record(A, "us-east-1", "2026-06-02T11:00:00Z")])
    engine = _engine([tmp_path / "logs"])
    raw = engine.collect(WINDOW, None)
    assert raw.stats.read == 8 and engine.skipped_files == ()
    assert engine.not_event_logs == {"digest": 1, "insight": 1}


def test_insight_records_in_an_event_file_are_not_events(tmp_path):
    records = [*_trail_records()[:2], insight_record(A, "us-east-1", "2026-06-02T11:00:00Z")]
    write_records(tmp_path / "mixed.json", records)
    engine = _engine([tmp_path / "mixed.json"])
    raw = engine.collect(WINDOW, None)
    assert raw.stats.read == 2 and engine.not_event_logs == {}


def test_only_digests_is_an_error_not_an_empty_account(tmp_path):
    digest = digest_document(A, "us-east-1", "2026-06-02T11:00:00Z", [])
    folder = tmp_path / "AWSLogs" / A / "CloudTrail-Digest" / "us-east-1" / "2026" / "06" / "02"
    folder.mkdir(parents=True)
    (folder / "d.json.gz").write_bytes(gzip.compress(json.dumps(digest).encode()))
    with pytest.raises(
        InputError, match=r"no CloudTrail event logs found under .*skipped 1 CloudTrail digest file"
    ):
        _engine([tmp_path]).collect(WINDOW, None)


def test_the_kind_survives_the_file_cache(tmp_path):
    written = _bucket(tmp_path / "bucket")
    assert written["digests"]
    cache = tmp_path / "cache"
    first = LocalEngine(
        [tmp_path / "bucket"], progress=False, cache_dir=cache, cache_min_bytes=0, answers=False
    )
    first.collect(WINDOW, None)
    second = LocalEngine(
        [tmp_path / "bucket"], progress=False, cache_dir=cache, cache_min_bytes=0, answers=False
    )
    second.collect(WINDOW, None)
    assert second.stats["cached"] == second.stats["files"] == 27 and second.stats["read"] == 0
    assert second.not_event_logs == first.not_event_logs == {"digest": 9, "insight": 9}
    third = LocalEngine([tmp_path / "bucket"], progress=False, cache_dir=cache, cache_min_bytes=0)
    third.collect(WINDOW, None)  # stores the answer
    fourth = LocalEngine([tmp_path / "bucket"], progress=False, cache_dir=cache, cache_min_bytes=0)
    fourth.collect(WINDOW, None)  # answered from the answer store
    assert fourth.not_event_logs == {"digest": 9, "insight": 9}


def _lookup_events(records: list[dict]) -> dict:
    return {
        "Events": [
            {
                "EventId": r["eventID"],
                "EventName": r["eventName"],
                "ReadOnly": "true",
                "EventTime": "2026-06-02T10:00:00+00:00",
                "EventSource": r["eventSource"],
                "Resources": [],
                "CloudTrailEvent": json.dumps(r),
            }
            for r in records
        ]
    }


@pytest.mark.parametrize("form", ["records", "lookup-events", "ndjson", "single", "list", "gzip-named-json"])
def test_every_accepted_form_reads_the_same_events(tmp_path, form):
    records = _trail_records()[:3]
    path = tmp_path / "in.json"
    if form == "records":
        write_records(path, records)
    elif form == "lookup-events":
        path.write_text(json.dumps(_lookup_events(records), indent=2))
    elif form == "ndjson":
        write_records(path, records, ndjson=True)
    elif form == "single":
        records = records[:1]
        path.write_text(json.dumps(records[0], indent=2))
    elif form == "list":
        path.write_text(json.dumps(records))
    else:
        write_records(path, records, gz=True)
    raw = _engine([path]).collect(WINDOW, None)
    assert raw.stats.read == len(records)
    assert sorted(r.event_name for r in raw.rows) == sorted({r["eventName"] for r in records})


def _check(capsys, tmp_path: Path, logs: Path) -> tuple[int, str, str]:
    config = tmp_path / "ctlint.yaml"
    config.write_text(
        f'accounts:\n  - name: prod\n    id: "{A}"\n    iam: {json.dumps(str(BASE / "iam.json"))}\n'
        f"usage:\n  local:\n    paths: [{json.dumps(str(BASE / 'logs'))}, {json.dumps(str(logs))}]\n"
        "window:\n  start: 2026-06-01\n  end: 2026-07-01\n"
    )
    code = main(["check", "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("events.json", json.dumps({"Records": _trail_records()}))
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("logs.zip", None, "is not a CloudTrail log file: it is a ZIP archive"),
        (
            "config.json",
            {"fileVersion": "1.0", "configurationItems": []},
            "it is a JSON object with the keys",
        ),
        ("numbers.json", [1, 2, 3], "it is a JSON list of values that are not CloudTrail records"),
        ("binary.json", b"\xff\xfe\x00garbage", "it is binary data, not UTF-8 JSON text"),
        ("lookup.json", {"Events": [{"EventId": "x"}]}, "event 1 has no CloudTrailEvent text"),
    ],
)
def test_other_formats_are_named(capsys, tmp_path, name, content, expected):
    path = tmp_path / name
    if content is None:
        _zip(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(json.dumps(content))
    code, out, err = _check(capsys, tmp_path, path)
    assert code == 2 and "Traceback" not in err and out == ""
    assert f"CloudTrail file {path} " in err and expected in err, err
    assert "eventSource" not in err


def test_a_record_error_points_at_skip_bad_records(capsys, tmp_path):
    records = _trail_records()[:2]
    del records[1]["eventTime"]
    path = write_records(tmp_path / "trimmed.json", records)
    code, _out, err = _check(capsys, tmp_path, path)
    assert code == 2 and "has no eventTime; --skip-bad-records" in err


def test_the_check_reads_a_synced_bucket_and_says_what_it_passed_over(capsys, tmp_path):
    _bucket(tmp_path / "bucket")
    code, out, err = _check(capsys, tmp_path, tmp_path / "bucket")
    assert code in (0, 1), err
    assert "skipped 9 CloudTrail digest files and 9 CloudTrail Insights files: not event logs." in out + err
