"""What a file in a CloudTrail bucket is: an event log, or a neighbour that holds no events.

A trail's bucket holds more than event logs: with log file validation on (the common setting) an hourly
digest per account and region under `CloudTrail-Digest/`, with Insights on the Insights events under
`CloudTrail-Insight/`. Both are recognised by where they lie (the folder or the `_CloudTrail-Digest_`
part of the file name CloudTrail gives them) and, for copies outside that layout, by what they hold (a
digest's own keys; records whose eventType/eventCategory say Insight). They are counted and reported
as "not event logs", never read as events and never counted as unreadable files.

Files that are neither and not a CloudTrail format at all are named for what they are (a ZIP archive,
a JSON object with other keys), so nobody is told "a record has no eventSource" about a file that never
held records.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath

EVENTS = "events"
DIGEST = "digest"
INSIGHT = "insight"
NOT_EVENT_LOGS = (DIGEST, INSIGHT)
KINDS = frozenset({EVENTS, *NOT_EVENT_LOGS})

# The folder CloudTrail delivers into, and the marker it puts in the file name.
_LAYOUT = {"CloudTrail-Digest": DIGEST, "CloudTrail-Insight": INSIGHT}
_NAME_MARKERS = {"_CloudTrail-Digest_": DIGEST, "_CloudTrail-Insight_": INSIGHT}
# Keys every digest file has (AWS's "CloudTrail digest file structure"); an event record has none of them.
_DIGEST_KEYS = frozenset({"digestStartTime", "digestEndTime", "digestS3Object", "logFiles"})
# Keys that make a JSON object recognisably a CloudTrail event record.
_EVENT_KEYS = frozenset({"eventVersion", "eventSource", "eventName", "eventTime", "eventID"})

_NOUNS = {DIGEST: "CloudTrail digest file", INSIGHT: "CloudTrail Insights file"}


def kind_by_layout(path: str) -> str | None:
    """DIGEST or INSIGHT when the path lies where CloudTrail delivers those; None otherwise."""
    pure = PurePath(path)
    for part in pure.parts[:-1]:
        kind = _LAYOUT.get(part)
        if kind is not None:
            return kind
    for marker, kind in _NAME_MARKERS.items():
        if marker in pure.name:
            return kind
    return None


def is_digest(document: object) -> bool:
    return type(document) is dict and document.keys() >= _DIGEST_KEYS


def looks_like_event(record: object) -> bool:
    return type(record) is dict and not _EVENT_KEYS.isdisjoint(record.keys())


def describe_json(document: object) -> str:
    """A short description of a JSON document that is no CloudTrail format, for an error message."""
    if type(document) is dict:
        keys = sorted(str(k) for k in document)
        shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        return f"a JSON object with the keys {shown}" if keys else "an empty JSON object"
    if type(document) is list:
        return "a JSON list of values that are not CloudTrail records"
    return f"a single JSON {type(document).__name__} value"


def describe_bytes(data: bytes) -> str | None:
    """The format of a file that is not JSON text, when its first bytes tell; else None."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "a ZIP archive (unpack it and point ctlint at the .json or .json.gz files inside)"
    if data.startswith(b"BZh"):
        return "a bzip2 archive (CloudTrail delivers .json.gz; decompress it first)"
    if data.startswith(b"\xfd7zXZ\x00"):
        return "an xz archive (CloudTrail delivers .json.gz; decompress it first)"
    if data.startswith(b"PAR1"):
        return "a Parquet file (ctlint reads CloudTrail's JSON delivery files)"
    return None


EXPECTED = (
    'expected CloudTrail\'s {"Records": [...]}, `aws cloudtrail lookup-events` output {"Events": [...]}, '
    "NDJSON or a single event"
)


def noun(kind: str, count: int) -> str:
    return f"{count} {_NOUNS[kind]}{'' if count == 1 else 's'}"


def not_event_logs_note(counts: Mapping[str, int]) -> str | None:
    """One sentence about the digest and Insights files that were passed over, or None when there were none."""
    parts = [noun(kind, counts[kind]) for kind in NOT_EVENT_LOGS if counts.get(kind)]
    if not parts:
        return None
    return f"skipped {' and '.join(parts)}: not event logs."
