"""Generate docs/rules.md from the rule files, so the documentation and the code share one source.

Run `python -m ctlint.ruledocs > docs/rules.md`; a test fails when the committed file differs.
"""

from __future__ import annotations

from collections.abc import Sequence

from ctlint.model import RuleSpec
from ctlint.resources import rules_dir
from ctlint.rulefiles import builtin_rules
from ctlint.rulekinds import KINDS

# A hand-written section after the rules (how verdicts are decided, measured figures), shipped with them.
APPENDIX = "verdicts.md"


def render_rule_docs(rules: Sequence[RuleSpec]) -> str:
    lines = [
        "# Rule reference",
        "",
        "Generated from `rules/*.yaml` by `python -m ctlint.ruledocs`; do not edit by hand.",
        "",
        "| id | default level | title |",
        "|---|---|---|",
    ]
    lines += [f"| [`{r.id}`](#{r.id}) | {r.level.value} | {r.title} |" for r in rules]
    lines += [
        "",
        "## Rule kinds",
        "",
        "A rule file names one kind (`ctlint/rulekinds.py`); your own rule files can reuse any of them with",
        "their own id, level and filters. A kind runs once per principal, or once per account.",
        "",
        "| kind | runs | level when a rule file omits it | checks |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{k.name}` | per {k.scope} | {k.default_level.value} | {k.summary} |" for k in KINDS.values()
    ]
    for rule in rules:
        lines += [
            "",
            f"## {rule.id}",
            "",
            f"**{rule.title}** — kind `{rule.kind}`, default level `{rule.level.value}`, "
            f"tags: {', '.join(f'`{t}`' for t in rule.tags) or 'none'}.",
            "",
            f"**What it flags.** {rule.description}",
        ]
        if rule.why:
            lines += ["", f"**Why.** {rule.why}"]
        lines += ["", f"**How to fix.** {rule.help}"]
    appendix = rules_dir() / APPENDIX
    if appendix.is_file():
        lines += ["", appendix.read_text(encoding="utf-8").rstrip("\n")]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_rule_docs(builtin_rules()), end="")
