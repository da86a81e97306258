"""Log folders: anything with a CloudTrail name that is not a readable regular file is named, never
skipped silently (it could hide usage and so hide `removed-grant-used`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ctlint.cli import main
from ctlint.usage.files import discover, not_regular

GOOD = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "IAMUser",
        "arn": "arn:aws:iam::111111111111:user/alice",
        "accountId": "111111111111",
        "userName": "alice",
    },
    "eventTime": "2026-06-02T10:00:00Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "ListBuckets",
    "awsRegion": "us-east-1",
    "eventID": "e1",
    "recipientAccountId": "111111111111",
}


def _logs(tmp_path: Path, bad: str) -> tuple[Path, Path]:
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(3):
        (logs / f"good{i}.json").write_text(json.dumps({"Records": [{**GOOD, "eventID": f"e{i}"}]}))
    entry = logs / "bad.json"
    if bad == "broken link":
        entry.symlink_to(tmp_path / "missing.json")
    elif bad == "link loop":
        entry.symlink_to(entry)
    elif bad == "fifo":
        os.mkfifo(entry)
    elif bad == "device":
        entry.symlink_to("/dev/null")
    return logs, entry


KINDS = ["broken link", "link loop", "fifo", "device"]
WORDS = {
    "broken link": "No such file or directory",
    "link loop": "Too many levels of symbolic links",
    "fifo": "is a FIFO (named pipe), not a regular file",
    "device": "is a character device, not a regular file",
}


@pytest.mark.parametrize("bad", KINDS)
def test_a_non_regular_entry_is_an_input_error_naming_it(capsys, tmp_path, bad):
    logs, entry = _logs(tmp_path, bad)
    assert entry in discover([logs])
    code = main(["usage", str(logs)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith(f"ctlint: error: CloudTrail file {entry} ") and WORDS[bad] in line


@pytest.mark.parametrize("bad", KINDS)
def test_skip_bad_files_skips_and_counts_it(capsys, tmp_path, bad):
    logs, entry = _logs(tmp_path, bad)
    report = tmp_path / "usage.json"
    code = main(["usage", str(logs), "--skip-bad-files", "--max-skipped-share", "0.5", "--json", str(report)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert f"ctlint: warning: skipped: CloudTrail file {entry} " in err
    assert "from 3 files" in err


def test_a_linked_folder_is_read_once_and_a_folder_loop_ends(capsys, tmp_path):
    logs = tmp_path / "logs"
    (logs / "real").mkdir(parents=True)
    (logs / "real" / "a.json").write_text(json.dumps({"Records": [GOOD]}))
    (logs / "again").symlink_to(logs / "real")  # the same folder twice: read once
    (logs / "real" / "up").symlink_to(logs)  # a loop back to the top
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "b.json").write_text(json.dumps({"Records": [{**GOOD, "eventID": "e2"}]}))
    (logs / "linked").symlink_to(outside)  # logs behind a link count
    names = sorted(p.name for p in discover([logs]))
    assert names == ["a.json", "b.json"]


def test_not_regular_explains_each_kind():
    assert not_regular(0o100644) is None
    assert "FIFO" in not_regular(0o010644)
