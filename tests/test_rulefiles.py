from __future__ import annotations

from pathlib import Path

import pytest

from ctlint.errors import ConfigError
from ctlint.model import Level
from ctlint.ruledocs import render_rule_docs
from ctlint.rulefiles import KINDS, builtin_rules, load_rules, parse_rule

ROOT = Path(__file__).resolve().parents[1]


def test_every_builtin_rule_is_complete_and_of_a_known_kind():
    rules = builtin_rules()
    assert {r.id for r in rules} >= {
        "granted-unused",
        "used-not-granted",
        "unused-actor",
        "unused-assume-role",
        "granted-unknown",
    }
    for rule in rules:
        assert rule.kind in KINDS
        assert rule.title and rule.description and rule.help
    assert {r.id: r.level for r in rules}["granted-unknown"] is Level.NOTE


def test_overrides_change_level_enabled_and_filters():
    rules = {
        r.id: r
        for r in load_rules(
            {
                "granted-unused": {"level": "error", "filters": {"access_levels": ["Write"]}},
                "granted-unknown": {"enabled": False},
            }
        )
    }
    assert rules["granted-unused"].level is Level.ERROR
    assert rules["granted-unused"].filters.access_levels == ("Write",)
    assert rules["granted-unknown"].enabled is False


def test_unknown_rule_override_lists_the_known_ones():
    with pytest.raises(
        ConfigError, match="rules.granted-unsued: no such rule; known rules: .*granted-unused"
    ):
        load_rules({"granted-unsued": {"enabled": False}})


def test_custom_rule_files_add_rules(tmp_path):
    (tmp_path / "admin.yaml").write_text(
        "id: unused-admin\nkind: granted-unused\nlevel: error\ntitle: Unused admin actions\n"
        "description: d\nhelp: h\nfilters: {access_levels: [Permissions management]}\n"
    )
    rules = {r.id: r for r in load_rules({}, [tmp_path])}
    assert rules["unused-admin"].level is Level.ERROR
    assert rules["unused-admin"].filters.access_levels == ("Permissions management",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: x\nkind: nope\nlevel: error\ntitle: t\ndescription: d\nhelp: h\n", "kind 'nope' is not one of"),
        (
            "id: x\nkind: granted-unused\nlevel: loud\ntitle: t\ndescription: d\nhelp: h\n",
            "'loud' is not one of",
        ),
        ("id: x\nkind: granted-unused\nlevel: note\ntitle: t\ndescription: d\n", "missing key 'help'"),
        (
            "id: granted-unused\nkind: granted-unused\nlevel: note\ntitle: t\ndescription: d\nhelp: h\n",
            "is already defined",
        ),
        ("- a\n", "must be a mapping"),
    ],
)
def test_bad_rule_files_are_named(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        load_rules({}, [path])
    assert "bad.yaml" in str(error.value)


def test_rule_docs_are_generated_from_the_rule_files():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_rule_docs(builtin_rules()), "run: python -m ctlint.ruledocs > docs/rules.md"


def test_a_rule_file_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        for i in range(1, 9)
    ]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ConfigError, match="rule file .*bomb.yaml: the rule file expands to more than 100,000 values"
    ):
        load_rules({}, [path])


def test_every_registered_kind_has_a_builtin_rule_and_no_rule_names_an_unregistered_kind():
    from ctlint.rulekinds import KINDS

    kinds = {rule.kind for rule in builtin_rules()}
    assert kinds == set(KINDS)


def test_a_rule_file_without_a_level_takes_its_kinds_default():
    from ctlint.rulekinds import KINDS

    raw = {"id": "mine", "kind": "new-grant-unused", "title": "t", "description": "d", "help": "h"}
    assert parse_rule(raw, "mine.yaml").level == KINDS["new-grant-unused"].default_level
    assert parse_rule({**raw, "level": "note"}, "mine.yaml").level.value == "note"


def test_a_kind_that_is_not_a_string_is_refused_with_the_list_of_kinds():
    raw = {"id": "mine", "kind": ["granted-unused"], "title": "t", "description": "d", "help": "h"}
    with pytest.raises(ConfigError, match="is not one of granted-unused"):
        parse_rule(raw, "mine.yaml")
