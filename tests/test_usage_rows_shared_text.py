"""The answer's rows share one string object per distinct text (ctlint.usage.sql.rows_to_raw_usage).

Engines return a fresh string per value; at 3M events the session and identity rows repeat a few hundred
ARNs, sources and names 1.4 M times. Equal values must come out equal and as one object each.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ctlint.model import Window
from ctlint.usage.sql import rows_to_raw_usage


def _fresh(text: str) -> str:
    return "".join(list(text))  # an equal string that is not the same object


def test_repeated_texts_become_one_object_and_stay_equal():
    window = Window(datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc))
    role = "arn:aws:iam::111111111111:role/deploy"
    user = "arn:aws:iam::111111111111:user/alice"
    t = "2026-03-02T10:00:00Z"
    session = [
        (_fresh(user), _fresh(role), _fresh("111111111111"), _fresh("s3.amazonaws.com"), name, 2, t, t)
        for name in ("GetObject", "PutObject")
    ]
    identity = [
        (_fresh("111111111111"), _fresh(role), _fresh("alice"), _fresh("s3.amazonaws.com"), name, 1, t, t)
        for name in ("GetObject", "PutObject")
    ]
    usage = [(_fresh("111111111111"), _fresh(role), "role", _fresh("s3.amazonaws.com"), "GetObject", 3, t, t)]
    results = {
        "principal_usage": usage,
        "assume_role": [(_fresh(user), _fresh(role), "AssumeRole", None, 1, t, t)],
        "session_usage": session,
        "events_per_account": [("111111111111", 4)],
        "event_stats": [(4, 4, 0)],
        "identity_usage": identity,
    }
    raw = rows_to_raw_usage(window, results, engine="local")
    texts = [raw.rows[0].principal_arn, raw.assumptions[0].role_arn]
    texts += [r.role_arn for r in raw.sessions] + [r.role_arn for r in raw.identities]
    assert all(text == role for text in texts)
    assert all(text is texts[0] for text in texts)
    sources = [r.event_source for r in (*raw.rows, *raw.sessions, *raw.identities)]
    assert sources == ["s3.amazonaws.com"] * 5 and all(s is sources[0] for s in sources)
    accounts = [r.account_id for r in (*raw.rows, *raw.sessions, *raw.identities)]
    assert all(a == "111111111111" and a is accounts[0] for a in accounts)
    assert [r.source_arn for r in raw.sessions] == [user, user] and raw.sessions[
        0
    ].source_arn is raw.assumptions[0].source_arn
    assert [r.session for r in raw.identities] == ["alice", "alice"]
