"""Remedies for IaC (issue 18): the statements a finding flags, rewritten in their source files.

`rewrite` decides the new Action list (pure), `cloudformation` turns it into line edits of a template and
re-reads the result, `plan` goes from grouped findings to `StatementFix` values, `sources` reads the files.
"""
