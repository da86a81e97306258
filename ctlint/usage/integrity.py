"""Cache integrity: every cache entry carries an HMAC under a secret that is not in the cache folder.

CI restores cache folders across branches, forks and runners, so a cache folder is attacker-writable
input. Its shape can be checked, but a plausible row added to an answer cannot be told from a real one
by its shape; a MAC can. Each entry is bound to its role, its key (file set, question, cache name) and
its content. An entry whose MAC does not verify under this machine's secret (forged, edited, or
written on another machine) is ignored and rebuilt, so a cache can make a run faster but never change
its verdict.

The secret is `CTLINT_CACHE_KEY` when set (a CI secret, so trusted runs on fresh runners can share a
cache that untrusted runs cannot forge), else a random key created once in the state folder
(`$CTLINT_STATE_DIR`, else `$XDG_STATE_HOME/ctlint`, else `~/.local/state/ctlint`), which CI does not
cache. When neither works, a key for this process only: the cache is then never reused, never trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

KEY_FILE = "cache-secret"


def state_dir() -> Path:
    if os.environ.get("CTLINT_STATE_DIR"):
        return Path(os.environ["CTLINT_STATE_DIR"])
    if os.environ.get("XDG_STATE_HOME"):
        return Path(os.environ["XDG_STATE_HOME"]) / "ctlint"
    return Path.home() / ".local" / "state" / "ctlint"


def _read_or_create(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run created it first: use theirs
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(handle, "w", encoding="ascii") as stream:
        stream.write(secret + "\n")
    return bytes.fromhex(secret)


def _secret() -> bytes:
    configured = os.environ.get("CTLINT_CACHE_KEY")
    if configured:
        return hashlib.sha256(b"ctlint-cache-key\0" + configured.encode()).digest()
    try:
        secret = _read_or_create(state_dir() / KEY_FILE)
    except (OSError, ValueError):
        secret = b""
    return secret if len(secret) >= 16 else secrets.token_bytes(32)


@cache
def _secret_for(configured: str | None, folder: str) -> bytes:
    return _secret()


def secret() -> bytes:
    """This machine's (or this CI secret's) cache key; read once per configuration."""
    return _secret_for(os.environ.get("CTLINT_CACHE_KEY"), str(state_dir()))


def seal(role: str, *parts: bytes) -> str:
    """The MAC of an entry: its role (e.g. "answer"), its key parts and its content, length-prefixed."""
    mac = hmac.new(secret(), role.encode(), hashlib.sha256)
    for part in parts:
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.hexdigest()


def verify(mac: object, role: str, *parts: bytes) -> bool:
    return isinstance(mac, str) and hmac.compare_digest(mac, seal(role, *parts))


def seal_file(role: str, name: str, path: Path) -> str:
    """The MAC of a whole file's bytes, bound to its name, read in chunks."""
    mac = hmac.new(secret(), f"{role}\0{name}\0".encode(), hashlib.sha256)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            mac.update(chunk)
    return mac.hexdigest()
