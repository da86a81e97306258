"""Random bytes and random Unicode into every reader of untrusted input: each either reads the input or
ends in ctlint's own error (exit 2 with a sentence); never another exception, never a traceback."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_unresolved import _config

from ctlint.cli import main
from ctlint.config import load_config
from ctlint.errors import CtlintError
from ctlint.iac.cloudformation import parse_template
from ctlint.iac.lines import parse_json_located, parse_located
from ctlint.iac.terraform import parse_plan
from ctlint.inert import sanitise_line
from ctlint.inventory import parse_snapshot
from ctlint.model import Window
from ctlint.usage.local import LocalEngine

A = "111111111111"
FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Text that looks like the formats (so the parsers get past the first byte) mixed with anything at all.
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
).map(json.dumps)
TEXT = st.one_of(st.text(max_size=200), JSONISH, st.binary(max_size=200).map(lambda b: b.decode("latin-1")))


def _quietly(read) -> None:
    try:
        read()
    except CtlintError as error:
        # A message may quote data (a key with a newline); the CLI prints it through `sanitise_line`.
        assert str(error).strip()
        assert "\n" not in sanitise_line(str(error)) and "Traceback" not in str(error)


@FAST
@given(text=TEXT)
def test_iac_readers(text):
    def read() -> None:
        located = parse_located(text, "t.yaml")
        parse_template(located, account_id=A)

    _quietly(read)

    def read_plan() -> None:
        parse_plan(parse_json_located(text, "plan.json"), account_id=A)

    _quietly(read_plan)


@FAST
@given(text=TEXT)
def test_snapshot_reader(text):
    _quietly(lambda: parse_snapshot(text, account_id=A, account_name="demo", shown="s.json"))


@FAST
@given(text=TEXT)
def test_config_reader(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("config")
    path = folder / "ctlint.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _quietly(lambda: load_config(path))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | JSONISH.map(str.encode))
def test_cloudtrail_reader(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("logs")
    (folder / "f.json").write_bytes(data)
    window = Window(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc))
    engine = LocalEngine([folder], progress=False, cache=False)
    try:
        _quietly(lambda: engine.collect(window, None))
    finally:
        engine.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_check_on_a_random_plan_exits_0_1_or_2_without_a_traceback(tmp_path_factory, capsys, text):
    folder = tmp_path_factory.mktemp("check")
    plan = folder / "plan.json"
    plan.write_text(text, encoding="utf-8", errors="surrogatepass")
    code = main(["check", "--config", str(_config(folder, "terraform_plan", plan)), "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert out == "" and err.strip().splitlines()[-1].startswith("ctlint: error: ")


def test_a_hostile_plan_corpus_through_the_gate(tmp_path, capsys):
    corpus = {
        "duplicate": '{"a": 1, "a": 2}',
        "deep": "[" * 50_000 + "]" * 50_000,
        "surrogate": '{"format_version": "1.2", "x": "\\udfff"}',
        "bom": "\ufeff{}",
        "nul": '{"a": "\x00"}',
        "huge-number": '{"a": ' + "9" * 5000 + "}",
        "not-an-object": "[1, 2, 3]",
    }
    for name, text in corpus.items():
        folder = tmp_path / name
        folder.mkdir()
        plan = folder / "plan.json"
        plan.write_text(text, encoding="utf-8", errors="surrogatepass")
        code = main(["check", "--config", str(_config(folder, "terraform_plan", plan))])
        out, err = capsys.readouterr()
        assert code == 2, (name, err)
        assert out == "" and "Traceback" not in err and "internal error" not in err, (name, err)
        (line,) = err.strip().splitlines()
        assert line.startswith("ctlint: error: ") and "plan.json" in line, (name, line)
