"""`ctlint show`: CloudTracker's interactive views, with its flags and their meaning.

  ctlint show --account demo --list users|roles
  ctlint show --account demo --user alice [--show-used] [--ignore-benign] [--ignore-unknown]
  ctlint show --account demo --user charlie [--destaccount backup] --destrole admin --show-used

stdout holds only the diff lines (pipe and diff them); headers such as "Getting info on alice, user
created ..." and warnings go to stderr. The loading is `ctlint.pipeline.analyse`, shared with `check`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from ctlint.commands.check import add_window_arguments
from ctlint.compat import add_cloudtracker_flags, cloudtracker_notes
from ctlint.config import Config, load_config
from ctlint.conventions import use_colour
from ctlint.errors import ConfigError
from ctlint.evaluate import AccountState, is_active
from ctlint.inert import sanitise_line
from ctlint.model import Principal
from ctlint.observability import visibility
from ctlint.options import InputOptions
from ctlint.pipeline import Analysis, analyse, config_or_error
from ctlint.policy import may_assume, trust_admits
from ctlint.show import DiffLine, ShowFilter, actor_lines, diff_actions, filter_lines, render, session_actions


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "show",
        help="CloudTracker's views: list active principals, or diff one's granted and used actions",
        description="CloudTracker's command line: '  ' used, '-' granted and unused, '?' granted and not "
        "recordable by CloudTrail, '+' used but not granted. Lines on stdout, headers on stderr.",
    )
    parser.add_argument(
        "--config", "-c", metavar="FILE", help="config file (default: ctlint.yaml, else config.yaml)"
    )
    parser.add_argument("--account", required=True, metavar="NAME|ID", help="account to look at")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--list", choices=("users", "roles"), help="list users or roles, '-' when inactive")
    target.add_argument("--user", metavar="NAME", help="user to investigate")
    target.add_argument("--role", metavar="NAME", help="role to investigate")
    parser.add_argument("--destrole", metavar="NAME", help="what the user/role did as this role (AssumeRole)")
    parser.add_argument("--destaccount", metavar="NAME|ID", help="account of --destrole (default: --account)")
    add_window_arguments(parser)
    parser.add_argument(
        "--by-session",
        action="store_true",
        help="with --role: the actions used per session identity (sourceIdentity, else the role session "
        "name: e.g. the Identity Center user behind AWSReservedSSO_*, or an instance id), and when",
    )
    parser.add_argument("--show-used", action="store_true", help="only used actions (' ' and '+')")
    benign = parser.add_mutually_exclusive_group()
    benign.add_argument(
        "--show-benign",
        dest="show_benign",
        action="store_true",
        default=True,
        help="show read-only (List/Read) actions (the default)",
    )
    benign.add_argument(
        "--ignore-benign",
        dest="show_benign",
        action="store_false",
        help="hide read-only (List/Read access level) actions",
    )
    unknown = parser.add_mutually_exclusive_group()
    unknown.add_argument(
        "--show-unknown",
        dest="show_unknown",
        action="store_const",
        const="explicit",
        default="default",
        help="show '?' lines (the default; with --show-used, keep them too)",
    )
    unknown.add_argument(
        "--ignore-unknown",
        dest="show_unknown",
        action="store_const",
        const="no",
        help="hide granted actions CloudTrail cannot record ('?')",
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the output")
    parser.add_argument("--skip-bad-files", action="store_true", help="skip unreadable CloudTrail files")
    parser.add_argument(
        "--skip-bad-records",
        action="store_true",
        help="drop single records without eventSource, eventName or a readable eventTime",
    )
    add_cloudtracker_flags(parser)
    parser.set_defaults(func=run)


def _info(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _state(analysis: Analysis, config: Config, name_or_id: str) -> AccountState:
    account_id = config.account(name_or_id).id
    return next(s for s in analysis.accounts if s.inventory.account_id == account_id)


def find_principal(state: AccountState, kind: str, name: str) -> Principal:
    """The user or role `name` of the account (exact name, else case-insensitive); ConfigError if none."""
    candidates = [p for p in state.inventory.principals if p.type == kind]
    for match in (lambda p: p.name == name, lambda p: p.name.casefold() == name.casefold()):
        found = [p for p in candidates if match(p)]
        if len(found) == 1:
            return found[0]
    inventory = state.inventory
    names = ", ".join(sorted((p.name for p in candidates), key=str.casefold)) or "none"
    raise ConfigError(
        f"account {inventory.account_name} ({inventory.account_id}) has no {kind} named '{name}'; "
        f"its {kind}s: {names}."
    )


@dataclass(frozen=True)
class _Diff:
    granted: frozenset[str]
    used: frozenset[str]


def _list(analysis: Analysis, state: AccountState, kind: str) -> tuple[DiffLine, ...]:
    wanted = "user" if kind == "users" else "role"
    principals = [p for p in state.inventory.principals if p.type == wanted]
    return actor_lines({p.name: is_active(p, analysis.active, analysis.window) for p in principals})


def _own_diff(analysis: Analysis, state: AccountState, principal: Principal) -> _Diff:
    usage = analysis.usage.principals.get(principal.arn)
    used = frozenset(usage.actions) if usage else frozenset()
    return _Diff(state.grants[principal.arn].actions, used)


def _dest_diff(
    analysis: Analysis, source: AccountState, principal: Principal, dest: AccountState, role: Principal
) -> _Diff:
    used = session_actions(analysis.raw.sessions, principal.arn, role.arn)
    if not used and not any(
        a.source_arn == principal.arn and a.role_arn == role.arn for a in analysis.usage.assumptions
    ):
        window = analysis.window
        _info(
            f"{principal.name} did not assume {role.name} between {window.start:%Y-%m-%d} and "
            f"{window.end:%Y-%m-%d}."
        )
        if not (
            may_assume(source.grants[principal.arn], role.arn)
            and trust_admits(role, principal.arn, principal)
        ):
            _info(
                f"{principal.name} cannot assume {role.arn}: its policies or the role's trust policy "
                "do not allow it."
            )
    return _Diff(dest.grants[role.arn].actions, used)


def _header(principal: Principal) -> str:
    if principal.type == "user":
        return f"Getting info on {principal.name}, user created {principal.created or 'unknown'}"
    return f"Getting info for role {principal.name}"


def _filter(args: argparse.Namespace) -> ShowFilter:
    return ShowFilter(
        show_used=args.show_used,
        show_unknown=args.show_unknown != "no",
        show_benign=args.show_benign,
        unknown_explicit=args.show_unknown == "explicit",
    )


def _check_arguments(args: argparse.Namespace, config: Config) -> None:
    if args.list and (args.destrole or args.destaccount):
        raise ConfigError("--destrole and --destaccount apply to --user or --role, not to --list.")
    if getattr(args, "by_session", False) and (not args.role or args.destrole):
        raise ConfigError("--by-session applies to --role (the sessions of that role), without --destrole.")
    if args.destaccount and not args.destrole:
        raise ConfigError("--destaccount needs --destrole (the role assumed in that account).")
    config.account(args.account)  # unknown accounts fail before any log is read
    if args.destaccount:
        config.account(args.destaccount)


def _lines(args: argparse.Namespace, analysis: Analysis, config: Config) -> tuple[DiffLine, ...]:
    state = _state(analysis, config, args.account)
    if args.list:
        return _list(analysis, state, args.list)
    kind, name = ("user", args.user) if args.user else ("role", args.role)
    principal = find_principal(state, kind, name)
    dest_role = None
    if args.destrole:
        dest = _state(analysis, config, args.destaccount or args.account)
        dest_role = find_principal(dest, "role", args.destrole)
    _info(sanitise_line(_header(principal)))
    if dest_role is not None:
        _info(sanitise_line(f"Getting info for AssumeRole into {dest_role.name} ({dest_role.arn})"))
        diff = _dest_diff(analysis, state, principal, dest, dest_role)
    else:
        diff = _own_diff(analysis, state, principal)
    _organization_notes(dest_role or principal, analysis)
    seen = visibility(analysis.catalog, config.data_events, config.trail)
    lines = diff_actions(diff.granted, diff.used, analysis.catalog, config.data_events, seen.observable)
    return filter_lines(lines, _filter(args))


def run(args: argparse.Namespace) -> int:
    for note in cloudtracker_notes(args):
        _info(f"ctlint: note: {note}")
    args.config = config_or_error(args.config)
    config = load_config(args.config)
    _check_arguments(args, config)
    analysis = analyse(InputOptions.from_namespace(args), config=config)
    for warning in analysis.warnings:
        _info(f"ctlint: warning: {sanitise_line(warning)}")
    if getattr(args, "by_session", False):
        return _by_session(args, analysis, config)
    lines = _lines(args, analysis, config)
    colour = use_colour(args.no_color, sys.stdout)
    sys.stdout.write(render(lines, colour=colour))
    return 0


def _by_session(args: argparse.Namespace, analysis: Analysis, config: Config) -> int:
    """`--role R --by-session`: who behind the role did what, most recent session first."""
    from ctlint.sessions import session_lines, usage_by_session

    role = find_principal(_state(analysis, config, args.account), "role", args.role)
    _info(_header(role))
    sessions = usage_by_session(analysis.usage.identities, role.arn)
    if not sessions:
        window = analysis.window
        _info(
            f"no session of {role.name} made a recorded call between {window.start:%Y-%m-%d} and {window.end:%Y-%m-%d}."
        )
    lines = session_lines(sessions)
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0


# Enough to see the pattern; an Allow-list SCP can remove thousands of actions from an administrator.
_MAX_REMOVALS_SHOWN = 20


def _organization_notes(principal: Principal, analysis: Analysis) -> None:
    """On stderr: what the account's SCPs and RCPs take from the principal's own policies, and why."""
    from ctlint.orgexplain import removed_by_organization

    org = principal.organization
    if org is None:
        return
    if org.management_account or principal.is_service_linked:
        who = "the management account" if org.management_account else "a service-linked role"
        _info(sanitise_line(f"{principal.name} is {who}: SCPs and RCPs do not apply to it."))
        return
    removed = removed_by_organization(principal, analysis.catalog)
    if not removed:
        return
    _info(
        sanitise_line(
            f"{len(removed)} action(s) its policies grant are not granted under the organisation policies "
            f"({org.source}):"
        )
    )
    for removal in removed[:_MAX_REMOVALS_SHOWN]:
        _info(sanitise_line(f"  {removal.action}: {removal.reason}"))
    if len(removed) > _MAX_REMOVALS_SHOWN:
        _info(f"  ... and {len(removed) - _MAX_REMOVALS_SHOWN} more")
