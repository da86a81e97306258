"""The local engine's per-file cache: what reading each CloudTrail file produced, keyed by path, size, mtime.

One DuckDB file per set of input paths, `usage-v<FORMAT>-<hash of the paths>.duckdb`, in
`$CTLINT_CACHE_DIR`, else `$XDG_CACHE_HOME/ctlint`, else `~/.cache/ctlint`. It holds, per file, the
reader's weighted rows, the identity keys of its eventIDs, its record counts and its first problem
(so a second run fails or skips exactly like the first without reading the file). Only files whose
(absolute path, size, mtime_ns) are unchanged are taken from it; the rest are read and the cache is
rewritten.

The cache is an optimisation only, and untrusted input (CI restores cache folders across branches):
- its bytes carry an HMAC, in `<name>.mac` beside it, under a secret kept outside the cache folder
  (`ctlint.usage.integrity`); a cache whose MAC does not verify is foreign and is ignored and rebuilt;
- unreadable, of another format, or inconsistent (the weights of a file's rows must add up to its
  record count) → ignored, the files are read, and the cache is rebuilt;
- written to a temporary file in the same folder and renamed over the old one (atomic on POSIX and
  Windows), so Ctrl-C, SIGTERM or a crash never leave a half-written cache, and two runs sharing the
  folder each install a complete cache (the last one wins) without locks;
- a failure to write it is not an error of the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import time
import uuid
from pathlib import Path

import duckdb
import numpy as np

from ctlint.atomic import write_text_atomic
from ctlint.usage import filekind
from ctlint.usage.cachedir import default_dir
from ctlint.usage.integrity import seal_file

FORMAT = 4  # 2: the file kind (events, digest, insight); 3: a MAC file beside the cache; 4: sourceIdentity
_FIELDS = ("error", "bad", "problem", "records", "time_min", "time_max", "kind")


class Cache:
    def __init__(self, directory: Path | None, specs: list[str]) -> None:
        self.dir = Path(directory) if directory is not None else default_dir()
        digest = hashlib.sha256("\0".join(sorted(os.path.abspath(s) for s in specs)).encode()).hexdigest()
        self.path = self.dir / f"usage-v{FORMAT}-{digest[:16]}.duckdb"
        self.dirty = False  # True when the cache on disk should be rewritten even if no file was read

    def load(self, con: duckdb.DuckDBPyConnection, infos: list) -> set[int]:
        """Fill `rows`/`ids` in `con` and the infos of unchanged files; return their file ids."""
        if not self.path.is_file() or not self._verified():
            self.dirty = True
            return set()
        saved = {info.file_id: tuple(getattr(info, f) for f in _FIELDS) for info in infos}
        hits: set[int] = set()
        try:
            con.execute(f"ATTACH '{_quote(self.path)}' AS ctlint_cache (READ_ONLY)")
        except duckdb.Error:
            self.dirty = True
            return set()
        try:
            if con.execute("SELECT format FROM ctlint_cache.meta").fetchall() != [(FORMAT,)]:
                raise ValueError("format")
            cached = con.execute(
                "SELECT file_id, key, size, mtime_ns, error, bad, problem, records, time_min, time_max, kind "
                "FROM ctlint_cache.files"
            ).fetchall()
            by_key = {row[1]: row for row in cached}
            old, new = [], []
            expected = 0
            for info in infos:
                row = by_key.get(info.key)
                if row is None or info.error is not None or row[2] != info.size or row[3] != info.mtime_ns:
                    continue
                for name, value in zip(_FIELDS, row[4:], strict=True):
                    setattr(info, name, value)
                if info.kind not in filekind.KINDS:
                    raise ValueError("kind")
                old.append(row[0])
                new.append(info.file_id)
                hits.add(info.file_id)
                if info.error is None:
                    expected += info.records
            if len(hits) != len(cached):
                self.dirty = True  # changed or vanished files
            mapping = {"old": np.array(old, dtype=np.int32), "new": np.array(new, dtype=np.int32)}  # noqa: F841
            con.execute("CREATE TEMP TABLE cache_map AS SELECT * FROM mapping")
            con.execute(
                "INSERT INTO rows SELECT m.new, r.* EXCLUDE (file_id) FROM ctlint_cache.rows r "
                "JOIN cache_map m ON r.file_id = m.old"
            )
            con.execute(
                "INSERT INTO ids SELECT m.new, i.h FROM ctlint_cache.ids i JOIN cache_map m ON i.file_id = m.old"
            )
            total = con.execute("SELECT coalesce(sum(ct_weight), 0) FROM rows").fetchone()
            if total is None or total[0] != expected:  # an aggregate returns one row; if not, rebuild
                raise ValueError("inconsistent")
        except (duckdb.Error, ValueError, TypeError, IndexError):
            con.execute("DELETE FROM rows")
            con.execute("DELETE FROM ids")
            for info in infos:
                for name, value in zip(_FIELDS, saved[info.file_id], strict=True):
                    setattr(info, name, value)
            self.dirty = True
            hits = set()
        finally:
            con.execute("DROP TABLE IF EXISTS cache_map")
            with contextlib.suppress(duckdb.Error):
                con.execute("DETACH ctlint_cache")
        return hits

    @property
    def mac_path(self) -> Path:
        return self.dir / f"{self.path.name}.mac"

    def _verified(self) -> bool:
        """True when the cache file's bytes are the ones ctlint sealed with this machine's secret."""
        try:
            mac = self.mac_path.read_text(encoding="ascii").strip()
            return verify_mac(mac, seal_file("files", self.path.name, self.path))
        except (OSError, UnicodeDecodeError):
            return False

    def save(self, con: duckdb.DuckDBPyConnection, infos: list) -> bool:
        """Write the cache from `rows`/`ids` in `con`; True when installed. Never raises an Exception."""
        tmp = self.dir / f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        attached = False
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._sweep()
            listed = [i for i in infos if i.size >= 0]
            files = {  # noqa: F841 (read by DuckDB by name)
                "file_id": np.array([i.file_id for i in listed], dtype=np.int32),
                "key": np.array([i.key for i in listed], dtype=object),
                "size": np.array([i.size for i in listed], dtype=np.int64),
                "mtime_ns": np.array([i.mtime_ns for i in listed], dtype=np.int64),
                **{f: np.array([getattr(i, f) for i in listed], dtype=object) for f in ("error", "problem")},
                "bad": np.array([i.bad for i in listed], dtype=np.int64),
                "records": np.array([i.records for i in listed], dtype=np.int64),
                **{
                    f: np.array([getattr(i, f) for i in listed], dtype=object)
                    for f in ("time_min", "time_max", "kind")
                },
            }
            con.execute(f"ATTACH '{_quote(tmp)}' AS ctlint_new")
            attached = True
            con.execute(f"CREATE TABLE ctlint_new.meta AS SELECT {FORMAT}::INTEGER AS format")
            con.execute(
                "CREATE TABLE ctlint_new.files AS SELECT file_id, key, size, mtime_ns, error::VARCHAR AS error, "
                "bad, problem::VARCHAR AS problem, records, time_min::VARCHAR AS time_min, "
                "time_max::VARCHAR AS time_max, kind::VARCHAR AS kind FROM files"
            )
            con.execute("CREATE TABLE ctlint_new.rows AS SELECT * FROM rows")
            con.execute("CREATE TABLE ctlint_new.ids AS SELECT * FROM ids")
            con.execute("DETACH ctlint_new")
            attached = False
            mac = seal_file("files", self.path.name, tmp)
            os.replace(tmp, self.path)
            write_text_atomic(self.mac_path, mac + "\n")
            return True
        except Exception:
            return False
        finally:
            if attached:
                with contextlib.suppress(duckdb.Error):
                    con.execute("DETACH ctlint_new")
            for leftover in (tmp, Path(str(tmp) + ".wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def _sweep(self) -> None:
        """Remove temporary files of runs that died more than an hour ago."""
        now = time.time()
        for path in self.dir.glob(".usage-*.tmp*"):
            try:
                if now - path.stat().st_mtime > 3600:
                    path.unlink()
            except OSError:
                pass


def verify_mac(found: str, expected: str) -> bool:
    return hmac.compare_digest(found, expected)


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
