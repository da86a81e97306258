"""Right-sized identity policies from usage (`ctlint suggest`). Pure: values in, values out.

- `rightsize_statement` (ctlint.suggest.statement): one Allow statement, cut to the actions and resources
  used; the building block IaC patches can call.
- `suggest_policy` (ctlint.suggest.build): every statement of one principal, with Denies carried over and
  the documents packed within IAM's size limits (ctlint.suggest.limits).
- `suggest_all` (ctlint.suggest.run): every principal of an analysis.
Renderers for the command live beside them: `jsonout`, `text`, `terraform`, `cloudformation`.
"""

from ctlint.suggest.build import PrincipalInput, Suggestion, SuggestOptions, suggest_policy
from ctlint.suggest.statement import RightSized, SuggestedStatement, rightsize_statement

__all__ = [
    "PrincipalInput",
    "RightSized",
    "SuggestOptions",
    "SuggestedStatement",
    "Suggestion",
    "rightsize_statement",
    "suggest_policy",
]
