"""The shipped data files' names and compact codes, shared by their generator (scripts/datagen.py) and readers."""

from __future__ import annotations

CATALOG_FILE = "iam_catalog.json.gz"
EVENTS_FILE = "cloudtrail_events.json"
CATALOG_FORMAT = 2  # 2: resource types and their ARN formats per action

# One-letter codes keep the catalog small.
LEVEL_CODES = {"List": "L", "Read": "R", "Write": "W", "Tagging": "T", "Permissions management": "P"}
LEVELS_BY_CODE = {code: level for level, code in LEVEL_CODES.items()}
OBS_CODES = {"management": "m", "data": "d", "never": "n", "unknown": "u"}
