"""Locate the shipped `data/` and `rules/` folders, from a wheel or from the source tree."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def shipped_dir(name: str) -> Path:
    """Return the folder `name` ("data" or "rules"): inside the installed package, else the repository root."""
    for candidate in (_PACKAGE_DIR / "_shipped" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ctlint's {name}/ folder is missing from the installation ({_PACKAGE_DIR}).")


def data_path(filename: str) -> Path:
    return shipped_dir("data") / filename


def rules_dir() -> Path:
    return shipped_dir("rules")
