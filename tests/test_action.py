"""The GitHub Action, the example CI files and the pre-commit hooks: schemas, wiring, and the step script."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ACTION = REPO / "action.yml"
WORKFLOW = REPO / "examples" / "github-workflow.yml"
GITLAB = REPO / "examples" / "gitlab-ci.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"


def check_jsonschema(*args: str) -> subprocess.CompletedProcess:
    # The vendored schemas ship inside check-jsonschema: no network is needed (checked with `unshare -n`).
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *args], capture_output=True, text=True, timeout=60
    )


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize(
    ("schema", "path", "extra"),
    [
        ("vendor.github-actions", ACTION, ()),
        ("vendor.github-workflows", WORKFLOW, ()),
        ("vendor.gitlab-ci", GITLAB, ("--data-transform", "gitlab-ci")),
    ],
)
def test_files_are_valid_against_vendored_schemas(schema, path, extra):
    done = check_jsonschema("--builtin-schema", schema, *extra, str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_really_rejects_a_broken_action(tmp_path):
    broken = tmp_path / "action.yml"
    broken.write_text("name: x\nruns:\n  using: composite\n")  # no description, no steps
    assert check_jsonschema("--builtin-schema", "vendor.github-actions", str(broken)).returncode == 1


def test_action_inputs_outputs_and_install():
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {
        "config",
        "fail-on",
        "soft-fail",
        "baseline",
        "sarif",
        "junit",
        "markdown",
        "args",
    }
    assert set(action["outputs"]) >= {"sarif", "junit", "findings", "exit-code"}
    for output in action["outputs"].values():
        assert output["value"].startswith("${{ steps.check.outputs.")
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert "pip install" in steps[1]["run"] and '"$GITHUB_ACTION_PATH"' in steps[1]["run"]
    assert all("${{" not in step.get("run", "") for step in steps)  # no expression pasted into a script
    check = next(s for s in steps if s.get("id") == "check")
    assert "${{" not in check["run"], "inputs must reach the script through env, not be pasted into it"
    assert all(s.get("shell") == "bash" for s in steps if "run" in s)


def test_workflow_uses_the_action_on_the_demo_and_uploads_sarif_always():
    workflow = load(WORKFLOW)
    assert workflow["permissions"]["security-events"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    steps = workflow["jobs"]["ctlint"]["steps"]
    ours = next(s for s in steps if s.get("uses") == "./")
    assert ours["with"]["config"] == "examples/demo/ctlint.yaml"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"].startswith("always()")
    assert upload["with"]["sarif_file"] == "${{ steps.ctlint.outputs.sarif }}"


def test_gitlab_job_publishes_the_junit_report():
    job = load(GITLAB)["ctlint"]
    script = " ".join(job["script"])
    assert "--junit ctlint-junit.xml" in script
    assert job["artifacts"]["reports"]["junit"] == "ctlint-junit.xml"
    assert job["artifacts"]["when"] == "always"


def test_pre_commit_hooks():
    hooks = yaml.safe_load(HOOKS.read_text())
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"ctlint", "ctlint-baseline"}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        command = hook["entry"].split()
        assert command[0] == "ctlint"
        assert (REPO / "ctlint" / "commands" / f"{command[1]}.py").is_file()
    files = re.compile(by_id["ctlint"]["files"])
    assert files.search("envs/prod/ctlint.yaml") and files.search("modules/iam/main.tf")
    assert not files.search("src/app.py")


# ---------------------------------------------------------------- the step script, run for real

FAKE_CTLINT = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys
    args = sys.argv[1:]
    with open(os.environ["FAKE_LOG"], "w") as log:
        json.dump(args, log)
    def opt(name):
        return args[args.index(name) + 1] if name in args else None
    code = int(os.environ["FAKE_CODE"])
    if code != 2:
        findings = [{{"rule": "granted-unused", "baseline": "new"}}, {{"rule": "unused-actor", "baseline": "unchanged"}}]
        findings = findings[: int(os.environ["FAKE_FINDINGS"])]
        open(opt("--json"), "w").write(json.dumps({{"findings": findings}}))
        open(opt("--markdown"), "w").write("## ctlint summary\\n")
        for name in ("--sarif", "--junit"):
            if opt(name):
                open(opt(name), "w").write("report")
    sys.exit(code)
    """
)


def run_step(tmp_path: Path, *, code: int, findings: int = 0, **inputs: str) -> tuple[int, dict, str, list]:
    if shutil.which("bash") is None:
        raise AssertionError("bash is required to run the action's step script")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "ctlint"
    fake.write_text(FAKE_CTLINT.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    script = next(s for s in load(ACTION)["runs"]["steps"] if s.get("id") == "check")["run"]
    (tmp_path / "runner").mkdir(exist_ok=True)
    outputs, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    outputs.write_text("")
    summary.write_text("")
    defaults = {k: str(v.get("default", "")) for k, v in load(ACTION)["inputs"].items()}
    defaults.update({k.replace("_", "-"): v for k, v in inputs.items()})
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "FAKE_CODE": str(code),
        "FAKE_FINDINGS": str(findings),
        "FAKE_LOG": str(tmp_path / "argv.json"),
        **{f"CTLINT_{k.upper().replace('-', '_')}": v for k, v in defaults.items()},
    }
    # GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`.
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    parsed = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    argv = json.loads((tmp_path / "argv.json").read_text())
    return done.returncode, parsed, summary.read_text(), argv


def test_step_clean_run(tmp_path):
    rc, out, summary, argv = run_step(tmp_path, code=0, findings=0)
    assert rc == 0
    assert out["exit-code"] == "0" and out["findings"] == "0"
    assert out["sarif"] == "ctlint.sarif" and out["junit"] == ""
    assert summary == "## ctlint summary\n"
    assert argv[:3] == ["check", "--config", "ctlint.yaml"]
    assert "--fail-on" not in argv and "--baseline" not in argv


def test_step_findings_fail_and_pass_inputs_through(tmp_path):
    rc, out, _, argv = run_step(
        tmp_path,
        code=1,
        findings=2,
        fail_on="error",
        baseline="b.json",
        junit="j.xml",
        args="--start 2026-06-01 --end 2026-11-01",
    )
    assert rc == 1
    assert out["exit-code"] == "1" and out["findings"] == "2" and out["new-findings"] == "1"
    assert out["junit"] == "j.xml"
    for pair in (
        ["--fail-on", "error"],
        ["--baseline", "b.json"],
        ["--junit", "j.xml"],
        ["--start", "2026-06-01"],
    ):
        i = argv.index(pair[0])
        assert argv[i : i + 2] == pair


def test_step_soft_fail_passes_findings_but_not_errors(tmp_path):
    rc, out, _, _ = run_step(tmp_path, code=1, findings=1, soft_fail="true")
    assert rc == 0 and out["exit-code"] == "1"
    errored = tmp_path / "errored"
    errored.mkdir()
    rc, out, summary, _ = run_step(errored, code=2, soft_fail="true")
    assert rc == 2 and out["exit-code"] == "2" and out["findings"] == ""
    assert summary == ""
