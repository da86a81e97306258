"""Reporters render a RunResult; they never compute findings.

`RENDERERS` is the one table of report formats: `--format` takes its names, `ctlint check` gets one
`--NAME PATH` flag per entry with `file_flag`, and the help texts come from here. Adding a format means
adding a module with a render function and one entry below.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ctlint.model import RunResult


@dataclass(frozen=True)
class RenderOptions:
    colour: bool = False  # ANSI colours (text on a terminal only)


RenderFunction = Callable[[RunResult, RenderOptions], Iterable[str]]


@dataclass(frozen=True)
class Renderer:
    name: str
    description: str  # for --help: "a SARIF 2.1.0 log (GitHub code scanning)"
    module: str  # imported on first use: a run pays only for the formats it writes
    function: str  # module.function(result, options) -> the report in chunks
    file_flag: bool = True  # `ctlint check --NAME PATH` writes it beside the stdout report

    def render(self, result: RunResult, options: RenderOptions = RenderOptions()) -> Iterable[str]:
        function: RenderFunction = getattr(importlib.import_module(self.module), self.function)
        return function(result, options)


RENDERERS: Mapping[str, Renderer] = {
    r.name: r
    for r in (
        Renderer("text", "CloudTracker-style text", "ctlint.report.text", "text_chunks", file_flag=False),
        Renderer("json", "a JSON report (a public contract)", "ctlint.report.json_report", "json_chunks"),
        Renderer("sarif", "a SARIF 2.1.0 log (GitHub code scanning)", "ctlint.report.sarif", "sarif_chunks"),
        Renderer("junit", "a JUnit XML report (Jenkins, GitLab)", "ctlint.report.junit", "junit_chunks"),
        Renderer("markdown", "a Markdown summary (PR comments, job summaries)", "ctlint.report.markdown",
                 "markdown_chunks"),
    )
}  # fmt: skip
FORMATS = tuple(RENDERERS)


def renderer(fmt: str) -> Callable[[RunResult], str]:
    """The whole report of format `fmt` as one string (tests, small reports)."""
    try:
        entry = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}") from None
    return lambda result: "".join(entry.render(result))
