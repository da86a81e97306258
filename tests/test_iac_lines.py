import pytest

from ctlint.errors import InputError
from ctlint.iac.lines import parse_json_located, parse_located, parse_yaml_located


def test_json_values_and_lines():
    text = '{\n  "a": [1,\n    "x\\n",\n    {"b": null, "c": true}],\n  "d": -2.5e3\n}\n'
    doc = parse_json_located(text, "f.json")
    assert doc.value == {"a": [1, "x\n", {"b": None, "c": True}], "d": -2500.0}
    assert doc.line(("a",)) == 2
    assert doc.line(("a", 1)) == 3
    assert doc.line(("a", 2, "c")) == 4
    assert doc.line(("d",)) == 5
    assert doc.line(("a", 2, "missing", 7)) == 4  # nearest ancestor


@pytest.mark.parametrize("text", ['{"a": 1,}', '{"a" 1}', "[1, 2", '{"a": tru}', '{"a": 1} x'])
def test_json_errors_name_file_and_line(text):
    with pytest.raises(InputError, match=r"^bad\.json: invalid JSON at line 1"):
        parse_json_located(text, "bad.json")


def test_json_matches_stdlib_on_unicode_and_escapes():
    import json

    text = json.dumps({"k": ["é", "\u2028", "\\", 10**20, 0.1, [], {}]}, indent=1)
    assert parse_json_located(text, "u.json").value == json.loads(text)


def test_yaml_short_form_tags_become_long_form():
    text = (
        "A: !Ref B\n"
        "C: !GetAtt Role.Arn\n"
        "D: !Sub 'x-${AWS::Region}'\n"
        "E: !Join ['', [a, !Ref B]]\n"
        "F: !If [Cond, 1, 2]\n"
        "G: !Condition IsProd\n"
        "H: 12\n"
    )
    doc = parse_yaml_located(text, "t.yaml")
    assert doc.value == {
        "A": {"Ref": "B"},
        "C": {"Fn::GetAtt": ["Role", "Arn"]},
        "D": {"Fn::Sub": "x-${AWS::Region}"},
        "E": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
        "F": {"Fn::If": ["Cond", 1, 2]},
        "G": {"Condition": "IsProd"},
        "H": 12,
    }
    assert doc.line(("E",)) == 4
    assert doc.line(("H",)) == 7


def test_yaml_error_names_file_and_line():
    with pytest.raises(InputError, match=r"^t\.yaml: invalid YAML at line 3"):
        parse_yaml_located("a: 1\nb: [\n", "t.yaml")


def test_parse_located_picks_format():
    assert parse_located('  {"a": 1}', "x").value == {"a": 1}
    assert parse_located("a: 1", "x").value == {"a": 1}
