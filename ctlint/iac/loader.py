"""Entry point: `accounts[].iac` config entries -> IacResult (inventory, unlinked, unresolved, lines)."""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ctlint.errors import ConfigError, InputError
from ctlint.iac.build import Parsed, build_inventory, unlinked_statement_locations
from ctlint.iac.cloudformation import parse_template
from ctlint.iac.lines import parse_json_located, parse_located
from ctlint.iac.managed import aws_managed_policy
from ctlint.iac.terraform import parse_plan
from ctlint.limits import check_file_size
from ctlint.model import Inventory, SourceLocation

KINDS = ("terraform_plan", "cloudformation")


@dataclass(frozen=True)
class IacResult:
    # Principals the IaC defines (origin "terraform"/"cloudformation"); ARNs from name, path, account id.
    inventory: Inventory
    # (resource address / logical id, location, "user" | "role") of principals named only at apply time.
    unlinked: tuple[tuple[str, SourceLocation, str], ...]
    # Intrinsic functions / references / policies that could not be resolved offline.
    unresolved: tuple[tuple[str, SourceLocation], ...]
    # (principal ARN, action pattern as written) -> where that pattern is written (or the policy attached).
    action_locations: Mapping[tuple[str, str], SourceLocation] = field(default_factory=dict)
    files: tuple[str, ...] = ()  # the IaC files read, as shown in locations
    # Statements of policies that principals named only at deployment also hold (issue 18: never shrunk).
    unlinked_statements: frozenset[SourceLocation] = frozenset()


def _files(entry: Mapping[str, str], base_dir: Path, index: int) -> tuple[str, list[Path]]:
    keys = [k for k in entry if k in KINDS]
    if len(keys) != 1 or len(entry) != 1 or not isinstance(entry[keys[0]], str):
        raise ConfigError(
            f"iac[{index}]: expected exactly one of {', '.join(KINDS)} with a path or glob, got {dict(entry)!r}."
        )
    kind = keys[0]
    pattern = entry[kind]
    full = pattern if Path(pattern).is_absolute() else str(base_dir / pattern)
    matches = sorted(Path(p) for p in glob.glob(full, recursive=True) if Path(p).is_file())
    if not matches:
        # Fail closed: a gate that silently reads no IaC would pass every pull request.
        raise InputError(f"iac[{index}].{kind}: no file matches {pattern!r} (relative to {base_dir}).")
    return kind, matches


def _display(path: Path, base_dir: Path) -> str:
    try:
        return path.resolve().relative_to(base_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_iac(
    entries: Sequence[Mapping[str, str]],
    *,
    base_dir: Path,
    account_id: str,
    account_name: str,
    snapshot: Inventory | None,
    display_root: Path | None = None,
) -> IacResult:
    """Read every IaC file of one account into one proposed inventory.

    AWS managed policies attached by ARN resolve from `snapshot` first, then from ctlint's shipped data.
    Locations name files relative to `display_root` (ctlint check passes the working directory, so
    SARIF paths are repository-relative), by default relative to `base_dir` (the config file's folder).
    """
    parsed: list[Parsed] = []
    shown: list[str] = []
    for index, entry in enumerate(entries):
        kind, paths = _files(entry, base_dir, index)
        for path in paths:
            display = _display(path, display_root or base_dir)
            check_file_size(path, kind, display)
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{display}: the {kind} file is not UTF-8 text (byte {exc.start}: {exc.reason})."
                ) from None
            except OSError as exc:
                raise InputError(f"{path}: cannot read the {kind} file ({exc}).") from None
            if kind == "terraform_plan":
                parsed.append(parse_plan(parse_json_located(text, display), account_id=account_id))
            else:
                parsed.append(parse_template(parse_located(text, display), account_id=account_id))
            shown.append(display)
    inventory, unlinked, unresolved, locations = build_inventory(
        parsed,
        account_id=account_id,
        account_name=account_name,
        source=", ".join(shown),
        snapshot=snapshot,
        aws_managed=aws_managed_policy,
    )
    return IacResult(
        inventory=inventory,
        unlinked=tuple(unlinked),
        unresolved=tuple(unresolved),
        action_locations=dict(locations),
        files=tuple(shown),
        unlinked_statements=unlinked_statement_locations(parsed),
    )
