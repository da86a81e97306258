"""The `athena:` block is defined once, in the config schema: these tests hold the settings to it."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from ctlint.config import SCHEMA_PATH, load_config
from ctlint.errors import ConfigError
from ctlint.usage.athena_settings import (
    INTERNAL_SETTINGS,
    PROPERTIES,
    AthenaSettings,
    config_settings,
    setting_of,
)

SCHEMA_ATHENA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["properties"]["athena"]

# One valid value per key, each different from the default, so that a key that does not reach its
# setting shows as a wrong value.
SAMPLE = {
    "s3_bucket": "trail-logs",
    "path": "org/trail",
    "org_id": "o-abcdefghij",
    "region": "eu-west-1",
    "workgroup": "analysts",
    "output_location": "s3://results-bucket/ctlint/",
    "output_s3_bucket": "s3://results-bucket/ctlint/",
    "database": "audit",
    "table": "trail_table",
    "query_timeout": 42,
    "keep_results": True,
    "aggregate_location": "s3://aggregate-bucket/daily/",
    "aggregate_table": "trail_daily",
}
EXPECTED = {
    "output_location": "s3://results-bucket/ctlint/",
    "query_timeout_s": 42.0,
}


def test_every_schema_key_has_a_sample() -> None:
    assert set(SAMPLE) == set(SCHEMA_ATHENA["properties"]), "add a sample value for the new key"


@pytest.mark.parametrize("key", sorted(SCHEMA_ATHENA["properties"]))
def test_every_schema_key_reaches_its_setting(key: str) -> None:
    block = {"s3_bucket": SAMPLE["s3_bucket"], key: SAMPLE[key]}
    if key == "aggregate_table":
        block["aggregate_location"] = SAMPLE["aggregate_location"]
    settings = AthenaSettings.from_mapping(block, where="c.yaml: athena")
    setting = setting_of(key)
    assert getattr(settings, setting) == EXPECTED.get(setting, SAMPLE[key])
    assert getattr(settings, setting) != getattr(AthenaSettings(s3_bucket="trail-logs"), setting) or (
        key == "s3_bucket"
    )


def test_every_setting_has_a_schema_key() -> None:
    settable = {setting_of(key) for key in PROPERTIES}
    assert config_settings() == settable
    assert {f.name for f in fields(AthenaSettings)} == settable | INTERNAL_SETTINGS


def test_defaults_are_the_schemas() -> None:
    plain = AthenaSettings(s3_bucket="trail-logs")
    with_defaults = [key for key, spec in SCHEMA_ATHENA["properties"].items() if "default" in spec]
    assert with_defaults  # the schema carries the defaults
    for key in with_defaults:
        assert getattr(plain, setting_of(key)) == SCHEMA_ATHENA["properties"][key]["default"]
    assert AthenaSettings.from_mapping({"s3_bucket": "trail-logs"}, where="c.yaml: athena") == plain


def _write_config(tmp_path: Path, athena: dict) -> Path:
    (tmp_path / "iam").mkdir(exist_ok=True)
    (tmp_path / "iam" / "demo.json").write_text("{}")
    document = {
        "athena": athena,
        "accounts": [{"name": "demo", "id": "111111111111", "iam": "iam/demo.json"}],
    }
    path = tmp_path / "ctlint.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"query_timeout": 30},
        {"query_timeout_s": 30},  # accepted by the engine alone before the settings came from the schema
        {"query_timeout": "soon"},
        {"keep_results": "yes"},
        {"path": 7},
        {"workgroup": None},
        {"outptu_location": "s3://results-bucket/"},
    ],
)
def test_the_config_loader_and_the_settings_agree(tmp_path: Path, extra: dict) -> None:
    block = {"s3_bucket": "trail-logs", **extra}
    try:
        load_config(_write_config(tmp_path, block))
        loader_accepts = True
    except ConfigError:
        loader_accepts = False
    try:
        AthenaSettings.from_mapping(block, where="c.yaml: athena")
        settings_accept = True
    except ConfigError:
        settings_accept = False
    assert loader_accepts == settings_accept


def test_canonical_key_wins_over_cloudtrackers_alias() -> None:
    settings = AthenaSettings.from_mapping(
        {
            "s3_bucket": "trail-logs",
            "output_s3_bucket": "s3://old-bucket",
            "output_location": "s3://new-bucket/",
        },
        where="c.yaml: athena",
    )
    assert settings.output_location == "s3://new-bucket/"
