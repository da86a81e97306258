"""JSON that Python's reader cannot take (nesting past its recursion limit, a 5,000-digit number) is one
sentence naming the file, never an internal error, in every reader that parses JSON text itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctlint.errors import CtlintError
from ctlint.orgload import read_policy_file
from ctlint.policy import parse_policy_document
from ctlint.trailscope import load_event_selectors

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_NUMBER = '{"Version": "2012-10-17", "Statement": [], "n": ' + "9" * 5000 + "}"


@pytest.mark.parametrize(("text", "words"), [(DEEP, "is nested deeper"), (HUGE_NUMBER, "holds a value")])
def test_organization_policy_file(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "deep.scp.json"
    path.write_text(text)
    with pytest.raises(CtlintError, match=rf"^{path}: the policy file {words}") as caught:
        read_policy_file(path, "scp")
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("text", "words"), [(DEEP, "is nested deeper"), (HUGE_NUMBER, "holds a value")])
def test_policy_document_given_as_a_string(text: str, words: str) -> None:
    with pytest.raises(CtlintError, match=rf"^snap.json: user x: the policy document {words}"):
        parse_policy_document(text, name="p", kind="inline", where="snap.json: user x")


def test_event_selectors_file(tmp_path: Path) -> None:
    path = tmp_path / "selectors.json"
    path.write_text(DEEP)
    with pytest.raises(CtlintError, match="nested deeper") as caught:
        load_event_selectors(path)
    assert caught.value.exit_code == 2
