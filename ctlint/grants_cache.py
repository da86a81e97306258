"""Second run: an account's grants, cached under a key of everything they are computed from.

Grants (ctlint.policy.compute_grants) depend on the principals' documents, the catalog, the AWS managed
policy data and ctlint's own code, and on whatever else an account's config section names (a snapshot,
IaC files, and whatever inputs later versions add there). The key covers all of it without knowing
each input by name:

- the account's own config section and every top-level config key except the few that cannot change a
  grant (the window, usage, rules, allowlist and gate settings), as canonical JSON;
- the bytes of every file or folder any string in those sections names (relative to the config file);
- the catalog's and the managed policies' data versions, ctlint's version and the digest of its sources.

A key that cannot be computed (a named file that cannot be read) means no caching for that account.
Entries carry an HMAC under the usage caches' secret (`ctlint.usage.integrity`); one that does not
verify, or whose key or shape differs, is ignored and the grants are computed: a cache can make a run
faster, never change its verdicts. Writes go to a temporary file renamed into place; failing to write
is not an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from ctlint import __version__
from ctlint.atomic import write_text_atomic
from ctlint.model import Grants
from ctlint.usage.cachedir import default_dir
from ctlint.usage.integrity import seal, verify

FORMAT = 1
ROLE = "grants"
KEEP_FILES = 16
# Top-level config keys that cannot change a grant; every other key (present or added later) is in the key.
NOT_GRANT_INPUTS = frozenset({"window", "usage", "rules", "rule_files", "allowlist", "fail_on", "accounts"})
MAX_FILES_PER_FOLDER = 10_000  # a folder named in the config is hashed whole, up to this many files
CACHE_MIN_BYTES = 1 << 20  # as for the usage caches: below this, computing is cheaper than reading a cache
MAX_FILE_BYTES = 512 << 20  # the snapshot size limit (ctlint.limits); a larger file means no caching


@cache
def source_digest() -> str:
    """ctlint's own code: a changed evaluator must never meet grants an older one computed."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _hash_path(digest: Any, path: Path) -> int:
    """Add a regular file's bytes, or every regular file of a folder (names and bytes), to `digest`.
    Devices, FIFOs and sockets are never opened (a config string naming /dev/zero or a FIFO must not
    hang the run); they are no grant input (the readers refuse them). Raises OSError."""
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        listed = list(itertools.islice(path.rglob("*"), MAX_FILES_PER_FOLDER + 1))
        if len(listed) > MAX_FILES_PER_FOLDER:
            raise OSError(f"{path} holds more than {MAX_FILES_PER_FOLDER} entries")
        total = 0
        for file in sorted(listed):
            if stat.S_ISREG(file.stat().st_mode):
                digest.update(str(file.relative_to(path)).encode() + b"\0")
                total += _hash_path(digest, file)
        return total
    if not stat.S_ISREG(mode):
        return 0
    if path.stat().st_size > MAX_FILE_BYTES:
        raise OSError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    total = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            total += len(chunk)
    digest.update(b"\0")
    return total


def account_key(
    raw_config: Mapping[str, Any], account: Mapping[str, Any], base_dir: Path, data: Mapping[str, str]
) -> str | None:
    """The cache key of one account's grants, or None when an input it names cannot be read."""
    found = _key_and_size(raw_config, account, base_dir, data)
    return None if found is None else found[0]


def _key_and_size(
    raw_config: Mapping[str, Any], account: Mapping[str, Any], base_dir: Path, data: Mapping[str, str]
) -> tuple[str, int] | None:
    """`account_key` and the bytes of the input files it read."""
    size = 0
    sections = {
        "account": account,
        "config": {k: v for k, v in raw_config.items() if k not in NOT_GRANT_INPUTS},
    }
    try:
        canonical = json.dumps(sections, sort_keys=True, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    digest = hashlib.sha256(f"{FORMAT}\0{source_digest()}\0".encode())
    digest.update(json.dumps(dict(data), sort_keys=True).encode() + b"\0" + canonical.encode() + b"\0")
    for text in sorted(set(_strings(sections))):
        if not text or "\0" in text or len(text) > 4096:
            continue
        candidate = base_dir / text
        try:
            if not candidate.exists():
                continue  # a name, an id, a key: not a file
            if candidate.is_dir() and base_dir.resolve().is_relative_to(candidate.resolve()):
                continue  # "." or a parent: the config's own folder holds the logs, not a grant input
            digest.update(b"file\0" + text.encode() + b"\0")
            size += _hash_path(digest, candidate)
        except (OSError, ValueError):
            return None
    return digest.hexdigest(), size


def _with_principals(key: str, principals: Sequence[Any], redefined: Sequence[Any] | None) -> str:
    """`key` extended by the principals' own values (frozen dataclasses: their repr is their content)."""
    digest = hashlib.sha256(key.encode() + b"\0")
    for group in (principals, redefined or ()):
        for principal in group:
            digest.update(repr(principal).encode("utf-8", "surrogatepass") + b"\0")
        digest.update(b"\1")
    return digest.hexdigest()


def _encode(grants: Mapping[str, Grants], names: Sequence[str]) -> dict[str, Any]:
    """Action sets are stored once each: principals with the same policies share them (and, loaded, share
    one frozenset). A set is its actions' positions in the catalog's sorted names (the key pins the
    catalog), plus any name outside it."""
    sets: dict[frozenset[str], int] = {}
    position = {name: index for index, name in enumerate(names)}

    def ref(actions: frozenset[str]) -> int:
        return sets.setdefault(actions, len(sets))

    principals = [
        [
            arn,
            g.principal_arn,
            ref(g.actions),
            list(g.unknown_patterns),
            list(g.assume_role_resources),
            ref(g.conditional),
            [[list(patterns), not_resource] for patterns, not_resource in g.assume_role_denials],
        ]
        for arn, g in grants.items()
    ]
    stored = [
        [sorted(position[a] for a in s if a in position), sorted(a for a in s if a not in position)]
        for s in sets
    ]
    return {"sets": stored, "principals": principals}


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a list of strings")
    return tuple(value)


def _decode(content: Any, names: Sequence[str]) -> dict[str, Grants]:
    sets = []
    for indices, others in content["sets"]:
        if not isinstance(indices, list) or (indices and min(indices) < 0):
            raise ValueError("not a list of catalog positions")
        # names[i] raises for a position past the end or a non-integer: the entry is then ignored.
        sets.append(frozenset([*map(names.__getitem__, indices), *_texts(others)]))
    grants: dict[str, Grants] = {}
    for arn, principal_arn, actions, unknown, assume, conditional, denials in content["principals"]:
        if not isinstance(arn, str) or not isinstance(principal_arn, str):
            raise ValueError("principal ARN is not a string")
        grants[arn] = Grants(
            principal_arn=principal_arn,
            actions=sets[actions],
            unknown_patterns=_texts(unknown),
            assume_role_resources=_texts(assume),
            conditional=sets[conditional],
            assume_role_denials=tuple((_texts(patterns), bool(flag)) for patterns, flag in denials),
        )
    return grants


class GrantsStore:
    """One file per key under `<cache>/grants-v<FORMAT>/`; the newest KEEP_FILES stay."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = (Path(directory) if directory is not None else default_dir()) / f"grants-v{FORMAT}"

    def _path(self, key: str) -> Path:
        return self.dir / f"{key[:32]}.grants.json"

    def load(self, key: str, names: Sequence[str]) -> dict[str, dict[str, Grants] | None] | None:
        """The stored grants under `key` by part ("proposed", "deployed"), if they verify."""
        try:
            document = orjson.loads(self._path(key).read_bytes())
            if (
                not isinstance(document, dict)
                or document.get("format") != FORMAT
                or document.get("key") != key
            ):
                return None
            content = document["parts"]
            body = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
            if not verify(document.get("mac"), ROLE, key.encode(), body):
                return None  # not written here with this machine's secret: shape alone proves nothing
            return {name: None if part is None else _decode(part, names) for name, part in content.items()}
        except (OSError, orjson.JSONDecodeError, TypeError, KeyError, ValueError, IndexError, AttributeError):
            return None

    def save(self, key: str, parts: Mapping[str, Mapping[str, Grants] | None], names: Sequence[str]) -> bool:
        """Record the grants; True when installed. Never raises an Exception."""
        try:
            content = {
                name: None if grants is None else _encode(grants, names) for name, grants in parts.items()
            }
            body = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
            document = {"format": FORMAT, "key": key, "parts": content, "mac": seal(ROLE, key.encode(), body)}
            self.dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self._path(key), orjson.dumps(document).decode())
            self._prune()
            return True
        except Exception:  # CtlintError (cannot write) included: the cache is never an error of the run
            return False

    def _prune(self) -> None:
        stored = []
        for path in self.dir.glob("*.grants.json"):
            with contextlib.suppress(OSError):
                stored.append((path.stat().st_mtime, path))
        for _, path in sorted(stored, reverse=True)[KEEP_FILES:]:
            with contextlib.suppress(OSError):
                os.unlink(path)


def account_grants(
    config: Any,  # ctlint.config.Config
    index: int,
    inventory: Any,  # ctlint.model.Inventory: the proposed principals
    redefined: tuple[Any, ...] | None,  # the deployed principals the IaC redefines (None: no IaC)
    catalog: Any,  # ctlint.catalog.Catalog
    *,
    compute: Callable[[Any], Grants],  # one principal's grants (ctlint.policy.compute_grants with its inputs)
    use_cache: bool,
) -> tuple[dict[str, Grants], dict[str, Grants] | None]:
    """The grants of account `index` of `config` (and the deployed grants of the principals its IaC
    redefines), from the cache when its key matches, else computed by `compute` and stored. Whatever
    `compute` reads must be named by the account's config section or a top-level config key (the key
    covers those and the files they name) or be ctlint's code or data."""
    from ctlint.iac.managed import data_version

    def compute_all() -> tuple[dict[str, Grants], dict[str, Grants] | None]:
        grants = {p.arn: compute(p) for p in inventory.principals}
        deployed = None if redefined is None else {p.arn: compute(p) for p in redefined}
        return grants, deployed

    raw_accounts = config.raw.get("accounts") if isinstance(config.raw, Mapping) else None
    if not use_cache or not isinstance(raw_accounts, list) or index >= len(raw_accounts):
        return compute_all()
    data = {**catalog.versions, "aws_managed_policies": data_version()}
    found = _key_and_size(config.raw, raw_accounts[index], config.base_dir, data)
    if found is None or found[1] < CACHE_MIN_BYTES:
        return compute_all()
    # The principals as read, too: an input the config names only by a glob (IaC entries) or a file
    # read through another (a plan's sources) must still change the key.
    key = _with_principals(found[0], inventory.principals, redefined)
    store = GrantsStore()
    names = sorted(catalog.all_actions)
    stored = store.load(key, names)
    grants, deployed = (stored.get("proposed"), stored.get("deployed")) if stored else (None, None)
    expected = {p.arn for p in inventory.principals}
    expected_deployed = None if redefined is None else {p.arn for p in redefined}
    deployed_arns = None if deployed is None else deployed.keys()
    if grants is not None and grants.keys() == expected and deployed_arns == expected_deployed:
        return grants, deployed  # the same principals the key promises: a stale entry never slips in
    grants, deployed = compute_all()
    store.save(key, {"proposed": grants, "deployed": deployed}, names)
    return grants, deployed
