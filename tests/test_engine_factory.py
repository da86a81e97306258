"""One engine factory for `check` and `athena`: what it builds from a config and the CLI's flags."""

from __future__ import annotations

from pathlib import Path

import yaml

from ctlint.config import load_config
from ctlint.usage.answered import AnsweredEngine
from ctlint.usage.athena import AthenaEngine
from ctlint.usage.base import UsageEngine
from ctlint.usage.factory import make_athena_engine, make_engine
from ctlint.usage.local import LocalEngine


def _config(tmp_path: Path, **blocks: object) -> Path:
    (tmp_path / "iam").mkdir(exist_ok=True)
    (tmp_path / "iam" / "demo.json").write_text("{}")
    document = {"accounts": [{"name": "demo", "id": "111111111111", "iam": "iam/demo.json"}], **blocks}
    path = tmp_path / "ctlint.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_local_config_gets_a_local_engine_with_the_flags_added(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, usage={"local": {"paths": ["logs"]}}))
    plain = make_engine(config)
    # The local engine behind its answer cache; the LocalEngine it builds on a miss has the same settings.
    assert isinstance(plain, AnsweredEngine) and isinstance(plain, UsageEngine)
    assert not plain.skip_bad_files and not plain.skip_bad_records and plain.records_skipped == 0
    flagged = make_engine(config, skip_bad_files=True, skip_bad_records=True, no_cache=True)
    assert isinstance(flagged, AnsweredEngine)
    assert flagged.skip_bad_files and flagged.skip_bad_records
    assert plain.cache is True and flagged.cache is False
    for front in (plain, flagged):
        local = front.local()
        assert isinstance(local, LocalEngine) and front.engine is local
        assert (local.skip_bad_files, local.skip_bad_records, local.cache) == (
            front.skip_bad_files,
            front.skip_bad_records,
            front.cache,
        )


def test_athena_config_gets_the_athena_engine_of_its_block(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, athena={"s3_bucket": "trail-logs", "region": "eu-west-1"}))
    engine = make_engine(config)
    assert isinstance(engine, AthenaEngine) and isinstance(engine, UsageEngine)
    assert engine.settings.s3_bucket == "trail-logs" and not engine.settings.keep_results
    assert engine.accounts == ("111111111111",) and engine.records_skipped == 0
    kept = make_athena_engine(config, keep_results=True)
    assert kept.settings.keep_results and kept.settings.region == "eu-west-1"
