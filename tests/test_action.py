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
    install = steps[1]["run"]
    assert "pip install" in install and '"$GITHUB_ACTION_PATH"' in install
    assert '--constraint "$GITHUB_ACTION_PATH/action-constraints.txt"' in install
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
        findings = ["new", "unchanged"][: int(os.environ["FAKE_FINDINGS"])]
        counts = {{"findings": len(findings), "unchanged": findings.count("unchanged"), "gating": findings.count("new")}}
        open(opt("--summary"), "w").write(json.dumps(counts))
        open(opt("--markdown"), "w").write("## ctlint summary\\n")
        for name in ("--sarif", "--junit"):
            if opt(name):
                open(opt(name), "w").write("report")
    sys.exit(code)
    """
)


def run_step(
    tmp_path: Path, *, code: int, findings: int = 0, extra_env: dict | None = None, **inputs: str
) -> tuple[int, dict, str, list]:
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
        **(extra_env or {}),
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


def test_args_are_split_like_a_shell_never_evaluated(tmp_path):
    rc, _out, _, argv = run_step(
        tmp_path,
        code=0,
        args="""--start "2026-06-01" --end '2026-11-01' --json "my report.json" $(touch pwned)""",
    )
    assert rc == 0
    i = argv.index("--start")
    assert argv[i : i + 4] == ["--start", "2026-06-01", "--end", "2026-11-01"]
    assert argv[argv.index("--json") + 1] == "my report.json"
    assert "$(touch" in argv and not (tmp_path / "pwned").exists()


def test_an_unclosed_quote_in_args_is_an_error(tmp_path):
    (tmp_path / "argv.json").write_text("[]")
    rc, out, _, argv = run_step(tmp_path, code=0, args='--start "2026-06-01')
    assert rc == 2 and argv == []  # ctlint never ran
    assert out == {}


def test_job_summary_can_be_turned_off(tmp_path):
    rc, _out, summary, _ = run_step(tmp_path, code=0, job_summary="false")
    assert rc == 0 and summary == ""


def _fake_gh(bin_dir: Path, log: Path, *, edit_fails: bool) -> None:
    gh = bin_dir / "gh"
    gh.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"sys.exit(1 if {edit_fails!r} and '--edit-last' in sys.argv else 0)\n"
    )
    gh.chmod(0o755)


@pytest.mark.parametrize("edit_fails", [False, True], ids=["edit", "first-comment"])
def test_pr_comment_posts_the_markdown(tmp_path, edit_fails):
    (tmp_path / "bin").mkdir()
    log = tmp_path / "gh.log"
    _fake_gh(tmp_path / "bin", log, edit_fails=edit_fails)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42}}))
    extra = {"GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "acme/infra"}
    rc, _out, _, _ = run_step(tmp_path, code=1, findings=1, pr_comment="true", extra_env=extra)
    assert rc == 1
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls[0][:3] == ["pr", "comment", "42"] and "--edit-last" in calls[0]
    assert calls[0][calls[0].index("--body-file") + 1].endswith("ctlint-summary.md")
    assert len(calls) == (2 if edit_fails else 1)
    if edit_fails:
        assert "--edit-last" not in calls[1]


def test_pr_comment_outside_a_pull_request_is_a_notice(tmp_path):
    (tmp_path / "bin").mkdir()
    log = tmp_path / "gh.log"
    _fake_gh(tmp_path / "bin", log, edit_fails=False)
    rc, _out, _, _ = run_step(tmp_path, code=0, pr_comment="true", extra_env={"GITHUB_REPOSITORY": "a/b"})
    assert rc == 0 and not log.exists()


def test_the_constraints_pin_every_runtime_dependency():
    from packaging.requirements import Requirement

    pins = {}
    for line in (REPO / "action-constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name] = version
    pyproject = (REPO / "pyproject.toml").read_text()
    block = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    for text in re.findall(r'"([^"]+)"', block):
        requirement = Requirement(text)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is not pinned in action-constraints.txt"
        assert requirement.specifier.contains(pins[name]), (name, pins[name], str(requirement.specifier))


def test_the_example_workflow_runs_with_the_actions_steps_executed_locally(tmp_path):
    """examples/github-workflow.yml, step by step: our action's steps through bash with a fake GitHub
    environment (the real ctlint), then what upload-sarif would upload and what the job summary shows."""
    workflow = load(WORKFLOW)
    steps = workflow["jobs"]["ctlint"]["steps"]
    ours = next(s for s in steps if s.get("uses") == "./")
    action = load(ACTION)
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    inputs.update({k: str(v) for k, v in ours["with"].items()})
    outputs, summary, runner = tmp_path / "output", tmp_path / "summary.md", tmp_path / "runner"
    outputs.write_text("")
    summary.write_text("")
    runner.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh_log = tmp_path / "gh.log"
    _fake_gh(bin_dir, gh_log, edit_fails=False)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    env = {
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]),
        "HOME": str(tmp_path),
        "CTLINT_CACHE_DIR": str(tmp_path / "cache"),
        "RUNNER_TEMP": str(runner),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "acme/infra",
        "GITHUB_ACTION_PATH": str(REPO),
    }
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@")  # Python is this interpreter
            continue
        if step.get("id") != "check":
            assert (
                "pip install" in step["run"]
            )  # installing again would need the network; ctlint is installed
            continue
        step_env = {k: str(v) for k, v in step["env"].items()}
        resolved = {}
        for key, value in step_env.items():
            match = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", value)
            assert match, (key, value)
            resolved[key] = inputs[match.group(1)] if match.group(1) != "github-token" else "token"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=tmp_path,
            env={**env, **resolved, "CTLINT_CONFIG": str(REPO / inputs["config"])},
            capture_output=True,
            text=True,
            timeout=300,
        )
    parsed = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    assert done.returncode == 1 and parsed["exit-code"] == "1", done.stderr  # the demo has findings
    assert parsed["gating"] == "12" and "::error title=ctlint::12 finding(s)" in done.stdout
    # upload-sarif: `if: always() && steps.ctlint.outputs.sarif != ''`, then `sarif_file: <that output>`
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "${{ steps.ctlint.outputs.sarif }}" and parsed["sarif"]
    sarif = json.loads((tmp_path / parsed["sarif"]).read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    # the job summary and the pull-request comment carry the Markdown
    assert summary.read_text().startswith("## ctlint: ❌ 12 findings fail the gate")
    (call,) = [json.loads(line) for line in gh_log.read_text().splitlines()]
    assert call[:3] == ["pr", "comment", "7"] and call[call.index("--repo") + 1] == "acme/infra"
