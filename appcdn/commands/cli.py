"""The ``appcdn`` command.

``appcdn plan --stack test|live [--json]``: validate the project's stack files, compile the zones once, run
the program (``appcdn.program.stack_program.declare``) under Pulumi's mock engine, and print the resource tree it
declares and the effective cache behaviour. Exit 0 on success, 2 on invalid config or an unknown stack.
Every command exits 70 on an internal error (a bug): one line, never a traceback, never an outcome's code.

``appcdn permissions --stack NAME [--json]``: what the stack's deployer needs: the Cloudflare token's permission
groups, an AWS IAM policy, the Azure roles (``appcdn.commands.permissions``). Exit 0, or 2 on invalid config.

``appcdn diff --stack NAME [--stack NAME …] --base REF [--format text|markdown] [--json]``: plan each stack at the
git ref and in the working tree, offline, and print what changes: resources and cache behaviour in words, the
changes that weaken safety first (``appcdn.commands.diff.compare``). Exit 0 when nothing changes, 1 when something
does, 2 on an error (unknown ref or stack, invalid config, no git).

``appcdn adopt --stack NAME [--out FILE]``: read what already exists on the stack's live zones (read only,
``appcdn.commands.adopt.importer``), print what their rules do today next to what ours will do, and write a Pulumi
bulk import
file (default ``adopt.<stack>.json`` in the project). Exit 0 when done, 2 on invalid config, 3 on an API error.

``appcdn media sync-headers --stack NAME --site SITE [--bucket NAME | --account NAME --container NAME]
[--dry-run]``: reconcile the headers of a site's stored media with its header rules, then purge what changed
from the edge (``appcdn.commands.media``). ``appcdn media purge --stack NAME --site SITE [--dry-run]``: purge
everything the site's header rules cover from its media domain, by prefix (after an S3 Batch Operations job).

``appcdn verify --stack NAME [--json] [--edge URL] [--safety-only] [--max-requests N] [--rate N]``: send each
row of the stack's behaviour table a few harmless requests and compare what the edge answers with the row
(``appcdn.commands.verify.run``). Exit 0 when every row agrees or cannot tell, 1 on a disagreement, 2 on invalid
config, 3 when the edge cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

from appcdn.behaviour.table import behaviour_rows, rule_counts
from appcdn.commands.plan.any_program import is_appcdn_project, plan_program
from appcdn.commands.plan.mock_engine import PlannedProgram, fewer_collections, run_program
from appcdn.commands.plan.resource_text import output_lines, resource_tree
from appcdn.commands.plan.table_text import rule_count_lines, table
from appcdn.config.key_material import redacted
from appcdn.config.problems import ConfigError
from appcdn.config.project import Project, load_project, locate
from appcdn.config.pulumi_yaml.stack_files import StackFile, read_project
from appcdn.rules.rulesets import ZoneRules, compile_zones

EXIT_INVALID = 2
EXIT_INTERNAL = 70
EXIT_OUTPUT_CLOSED = 141
"""The reader of the output went away (``appcdn plan | head``): as a shell shows a process a closed pipe ends."""
"""An internal error (a bug), for every command: sysexits.h ``EX_SOFTWARE``, distinct from every outcome a command
reports (0, 1, 2, 3, 130)."""


def _ownership(project: Project) -> list[str]:
    """Where each zone's edge rules come from."""
    lines = []
    for zone_name in project.zones_in_use():
        owner = project.zone_owner(zone_name)
        stages = dict.fromkeys(stage for stage, _ in project.sites_on(zone_name))
        sources = ", ".join(str(project.files.get(stage)) for stage in stages)
        who = "this stack" if owner == project.stage else f"the {owner} stack ({project.files.get(owner)})"
        lines.append(f"  zone {zone_name}: edge rules declared by {who}, composed from {sources}")
    return lines


def _app_envs(outputs: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each site's exported app environment as planned, secrets shown as the placeholder."""
    return {name: site["app_env"] for name, site in outputs.get("sites", {}).items()}


def load_stack(project_dir: Path, stack: str, command: str) -> tuple[StackFile, Project, dict[str, ZoneRules]] | None:
    """The stack's file, its project validated with every stack file, and its zones compiled; None (after
    reporting every problem on stderr) when the stack or its config is invalid."""
    try:
        own, peers = read_project(project_dir, stack)
    except FileNotFoundError as err:
        print(f"appcdn {command}: {err}", file=sys.stderr)
        return None
    except ConfigError as err:
        print(f"stack {stack}: {err.report()}", file=sys.stderr)
        return None
    for warning in [w for f in (own, *peers) for w in f.warnings]:
        print(f"warning: {warning}", file=sys.stderr)
    sources = [own.source(), *(peer.source() for peer in peers)]
    try:
        project = load_project(sources[0], sources[1:])
        return own, project, compile_zones(project)
    except ConfigError as err:
        print(f"stack {stack}: {ConfigError(locate(err.problems, sources)).report()}", file=sys.stderr)
        return None


def plan(project_dir: Path, stack: str, as_json: bool) -> int:
    if not (project_dir / "Pulumi.yaml").exists():
        print(f"appcdn plan: {project_dir} holds no Pulumi.yaml", file=sys.stderr)
        return EXIT_INVALID
    if not is_appcdn_project(project_dir):
        return plan_program(project_dir, stack, as_json)
    with fewer_collections():  # the config, the provider SDKs, the registrations: millions of objects, no garbage
        return _plan(project_dir, stack, as_json)


def planned_stack(
    project_dir: Path, stack: str, command: str
) -> tuple[Project, dict[str, ZoneRules], PlannedProgram] | None:
    """A stack's config loaded and compiled and its program run under the mock engine; None when the config is
    invalid (said on stderr, as ``load_stack`` says it)."""
    loaded = load_stack(project_dir, stack, command)
    if loaded is None:
        return None
    own, project, compiled = loaded
    from appcdn.program.stack_program import declare, export  # the provider SDKs load only for a valid config

    planned = run_program(lambda: export(declare(project, compiled)), own.project, stack, own.config, own.secret_keys)
    return project, compiled, planned


def _plan(project_dir: Path, stack: str, as_json: bool) -> int:
    found = planned_stack(project_dir, stack, "plan")
    if found is None:
        return EXIT_INVALID
    project, compiled, planned = found
    rows = behaviour_rows(project, compiled)
    resources = sorted(planned.resources, key=lambda r: (r.parent or "", r.type, r.name))
    counts = [c for c in rule_counts(project, compiled) if project.owns(c.zone)]
    if as_json:
        print(
            json.dumps(
                {
                    "stack": stack,
                    "resources": [r.as_json() for r in resources],
                    "cache_behaviour": [r.as_json() for r in rows],
                    "rule_counts": [c.as_json() for c in counts],
                    "app_env": _app_envs(planned.outputs),
                    "outputs": planned.outputs,
                },
                indent=2,
                sort_keys=True,
            )
        )
        return 0
    print(f"Stack {stack} (stage {project.stage}) declares {len(resources)} resources:")
    print("\n".join(resource_tree(resources)))
    print("\nEffective cache behaviour (every request class the compiled rules tell apart, in Cloudflare's order):")
    print("\n".join(_ownership(project)))
    print("\n".join(table(rows)))
    if counts:
        print("\nRules deployed against the plan's limit per zone:")
        print("\n".join(rule_count_lines(counts)))
    print("\nApp environment (stack output sites.<name>.app_env; read by appcdn_django.settings):")
    for site, env in _app_envs(planned.outputs).items():
        print(f"  {site}: " + "  ".join(f"{key}={value}" for key, value in sorted(env.items())))
    print("\nStack outputs (for other stacks' StackReference; secrets as [secret]):")
    print("\n".join(output_lines(planned.outputs)))
    return 0


def adopt(project_dir: Path, stack: str, out: Path | None) -> int:
    loaded = load_stack(project_dir, stack, "adopt")
    if loaded is None:
        return EXIT_INVALID
    own, project, compiled = loaded
    from appcdn.commands.adopt.importer import adopt as adopt_zones  # the Cloudflare SDK loads only for a valid config

    return adopt_zones(project, compiled, stack, own.project, out or project_dir / f"adopt.{stack}.json")


def diff(project_dir: Path, stacks: list[str], base: str, output: str) -> int:
    from appcdn.commands.diff import render as diff_report
    from appcdn.commands.diff.compare import compare
    from appcdn.commands.diff.git_ref import PlanError, plan_ref, plan_working_tree

    try:
        diffs = [
            compare(stack, plan_ref(project_dir, stack, base), plan_working_tree(project_dir, stack))
            for stack in stacks
        ]
    except PlanError as err:
        print(f"appcdn diff: {err}", file=sys.stderr)
        return EXIT_INVALID
    print({"json": diff_report.as_json, "markdown": diff_report.markdown, "text": diff_report.text}[output](diffs))
    return 1 if any(d.changed for d in diffs) else 0


def verify(project_dir: Path, args: argparse.Namespace) -> int:
    from appcdn.commands.verify.client import Edge, EdgeError
    from appcdn.commands.verify.run import Options, verify_stack

    try:
        edge = Edge.parse(args.edge)
    except EdgeError as err:
        print(f"appcdn verify: {err}", file=sys.stderr)
        return EXIT_INVALID
    loaded = load_stack(project_dir, args.stack, "verify")
    if loaded is None:
        return EXIT_INVALID
    _, project, compiled = loaded
    options = Options(args.stack, edge, args.json, args.safety_only, args.max_requests, args.rate)
    return verify_stack(project, compiled, options)


def _positive(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    number = int(value) if value.isdigit() else 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: a whole number of at least 1")
    return number


def internal_error(command: str, err: Exception) -> int:
    """An error that is no fault of the input: a bug. Said on one line (its kind, where it was raised, its message
    with key material hidden), never as a traceback, and never with exit 0 or 1 (1 is diff's "something
    changed", media's "some objects failed")."""
    frames = traceback.extract_tb(err.__traceback__)
    where = next((f for f in reversed(frames) if "/appcdn/" in f.filename), frames[-1] if frames else None)
    at = f" at {where.filename[where.filename.rfind('/appcdn/') + 1 :]}:{where.lineno}" if where else ""
    print(
        f"appcdn {command}: internal error (a bug in appcdn, not in your files; please report it): "
        f"{type(err).__name__}{at}: {redacted(str(err))}",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _rate(value: str) -> int:
    """An argparse type: requests per second, 1 to 50."""
    number = int(value) if value.isdigit() else 0
    if not 1 <= number <= 50:
        raise argparse.ArgumentTypeError(f"{value!r}: a whole number from 1 to 50")
    return number


def _add_project_dir(parser: argparse.ArgumentParser) -> None:
    """``--cwd``, which every subcommand takes: where the project (its Pulumi.yaml and stacks/) is."""
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="project directory (holds Pulumi.yaml)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="appcdn", description="Caching and CDN infrastructure as code.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan", help="offline plan of a stack: resources and effective cache behaviour")
    p.add_argument("--stack", "-s", required=True, help="stack name: test or live (stacks/Pulumi.<name>.yaml)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_project_dir(p)
    a = sub.add_parser(
        "adopt",
        help="take over live zones: compare their rules with ours, write an import file "
        "(reads CLOUDFLARE_API_TOKEN and CLOUDFLARE_BASE_URL; read only)",
    )
    a.add_argument("--stack", "-s", required=True, help="stack name: test or live (stacks/Pulumi.<name>.yaml)")
    a.add_argument("--out", "-o", type=Path, help="import file to write (default: adopt.<stack>.json in the project)")
    _add_project_dir(a)
    media = sub.add_parser("media", help="a site's stored media").add_subparsers(dest="media_command", required=True)
    m = media.add_parser(
        "sync-headers",
        help="make every stored object carry its header rule's headers; purge what changed from the edge",
    )
    m.add_argument("--stack", "-s", required=True, help="stack name (stacks/Pulumi.<name>.yaml)")
    m.add_argument("--site", required=True, help="the site's name")
    m.add_argument("--bucket", help="S3 bucket (default: the site's media.aws.bucket_name)")
    m.add_argument("--account", help="Azure storage account (default: the site's media.azure.account_name)")
    m.add_argument("--container", help="Azure container (default: the site's private and public containers)")
    m.add_argument("--dry-run", action="store_true", help="write nothing; show what would change, per rule")
    m.add_argument("--workers", type=_positive, default=16, help="concurrent requests (default 16)")
    _add_project_dir(m)
    mp = media.add_parser(
        "purge",
        help="purge everything the header rules cover from the media domain, by prefix "
        "(after an S3 Batch Operations job; reads CLOUDFLARE_API_TOKEN)",
    )
    mp.add_argument("--stack", "-s", required=True, help="stack name (stacks/Pulumi.<name>.yaml)")
    mp.add_argument("--site", required=True, help="the site's name")
    mp.add_argument("--dry-run", action="store_true", help="show what would be purged")
    _add_project_dir(mp)
    d = sub.add_parser(
        "diff",
        help="what a change does to stacks: plan them at a git ref and in the working tree "
        "(offline) and compare resources and cache behaviour; exit 1 on changes",
    )
    d.add_argument("--stack", "-s", required=True, action="append", help="stack name; repeat for several")
    d.add_argument("--base", required=True, help="git ref to compare with, e.g. origin/main")
    d.add_argument("--format", choices=("text", "markdown"), default="text", help="markdown: for a PR comment")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    _add_project_dir(d)
    v = sub.add_parser(
        "verify",
        help="check the edge against the stack's behaviour table: a few harmless GET/HEAD requests per row; "
        "exit 1 on a disagreement (safety rows first), 3 when the edge cannot be reached",
    )
    v.add_argument("--stack", "-s", required=True, help="stack name (stacks/Pulumi.<name>.yaml)")
    v.add_argument("--json", action="store_true", help="print a JSON list: one object per row checked")
    v.add_argument(
        "--edge",
        default=os.environ.get("APPCDN_VERIFY_EDGE") or None,
        help="send every request to this address with the row's Host (http:// only to loopback; "
        "default: $APPCDN_VERIFY_EDGE, else each row's host)",
    )
    v.add_argument("--safety-only", action="store_true", help="only the requests that must never be cached")
    v.add_argument("--max-requests", type=_positive, default=300, help="at most this many requests (default 300)")
    v.add_argument("--rate", type=_rate, default=10, help="requests per second, 1 to 50 (default 10)")
    _add_project_dir(v)
    pp = sub.add_parser(
        "permissions", help="what deploying a stack needs: Cloudflare token, AWS IAM policy, Azure roles"
    )
    pp.add_argument("--stack", "-s", required=True, help="stack name (stacks/Pulumi.<name>.yaml)")
    pp.add_argument("--json", action="store_true", help="print one JSON object")
    _add_project_dir(pp)
    sub.add_parser("schema", help="the Pulumi package schema of the components (PulumiPlugin.yaml in provider/)")
    sub.add_parser("config-schema", help="a JSON Schema of a stack file, for editors (stacks/appcdn-stack.schema.json)")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except BrokenPipeError:
        return output_closed()
    except Exception as err:  # every command's internal errors end the same way
        return internal_error(" ".join(filter(None, [args.command, getattr(args, "media_command", None)])), err)


def run(args: argparse.Namespace) -> int:
    """The parsed command, run."""
    if args.command == "config-schema":
        from appcdn.config.file_schema import main as print_config_schema

        print_config_schema()
        return 0
    if args.command == "schema":
        from appcdn.program.package_schema import main as print_schema

        print_schema()
        return 0
    if args.command == "permissions":
        from appcdn.commands.permissions import permissions

        return permissions(args.cwd.resolve(), args.stack, args.json)
    if args.command == "diff":
        return diff(args.cwd.resolve(), args.stack, args.base, "json" if args.json else args.format)
    if args.command == "verify":
        return verify(args.cwd.resolve(), args)
    if args.command == "adopt":
        return adopt(args.cwd.resolve(), args.stack, args.out)
    if args.command == "media":
        from appcdn.commands.media import SyncRequest, purge_media, sync_headers

        if args.media_command == "purge":
            return purge_media(SyncRequest(args.cwd.resolve(), args.stack, args.site, dry_run=args.dry_run))
        return sync_headers(
            SyncRequest(
                args.cwd.resolve(),
                args.stack,
                args.site,
                args.bucket,
                args.account,
                args.container,
                args.dry_run,
                args.workers,
            )
        )
    return plan(args.cwd.resolve(), args.stack, args.json)


def command() -> NoReturn:
    """The ``appcdn`` executable: ``main``, then the process ends without tearing the interpreter down. The command
    is done and its output flushed; freeing the provider SDKs' classes and a plan's millions of objects one by one
    at interpreter exit took about a second of CPU (``bench/README.md``) for what the operating system does at
    once. A reader that went away (``| head``) ends it quietly with 141; another failing flush (a full disk) takes
    the interpreter's own way out, which reports it."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = output_closed()
    except OSError:
        sys.exit(code)
    sys.stderr.flush()
    os._exit(code)


def output_closed() -> int:
    """The reader of the output went away: what is left to print goes nowhere, and nothing is said of it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_OUTPUT_CLOSED


if __name__ == "__main__":
    command()
