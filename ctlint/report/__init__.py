"""Reporters render a RunResult; they never compute findings."""

from __future__ import annotations

from collections.abc import Callable

from ctlint.model import RunResult

FORMATS = ("text", "json", "sarif", "junit", "markdown")


def renderer(fmt: str) -> Callable[[RunResult], str]:
    if fmt == "text":
        from ctlint.report.text import render_text

        return render_text
    if fmt == "json":
        from ctlint.report.json_report import render_json

        return render_json
    if fmt == "sarif":
        from ctlint.report.sarif import render_sarif

        return render_sarif
    if fmt == "junit":
        from ctlint.report.junit import render_junit

        return render_junit
    if fmt == "markdown":
        from ctlint.report.markdown import render_markdown

        return render_markdown
    raise ValueError(f"unknown format {fmt!r}")
