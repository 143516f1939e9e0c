"""Plan one stack offline and print, as JSON, what ``appcdn diff`` compares: the declared resources, each zone's
compiled rules and the hosts each site serves.

It runs inside whichever ``appcdn`` code is importable: the working tree's (imported by ``appcdn diff``), or a
git ref's, in a separate interpreter whose path starts with that ref's tree (``python -c`` with this file's
text). It therefore uses only the long-standing API (stack files, ``load_project``, ``compile_zones``,
``site_stages``, ``run_under_mocks``, ``declare``/``export``; ``locate`` only where the code has it) and
nothing else of the code it runs in.
Exit 0 with the snapshot, 2 with ``{"error": ...}`` when the config is invalid.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def snapshot(project_dir: Path, stack: str) -> dict[str, Any]:
    """The stack planned offline, as plain data. Raises the code's ConfigError on invalid config, and
    FileNotFoundError for an unknown stack."""
    from appcdn.commands.plan.mock_engine import run_under_mocks
    from appcdn.config import project as projects
    from appcdn.config.media import media_hosts
    from appcdn.config.problems import ConfigError
    from appcdn.config.pulumi_yaml.stack_files import peer_sources, read_stack_file
    from appcdn.rules.rulesets import compile_zones, site_stages

    own = read_stack_file(project_dir, stack)
    sources = [own.source(), *peer_sources(project_dir, stack)]
    try:
        project = projects.load_project(sources[0], sources[1:])
        compiled = compile_zones(project)
    except ConfigError as err:
        locate = getattr(projects, "locate", None)  # code that reads stack files with their lines locates problems
        if locate is None:
            raise
        raise ConfigError(locate(err.problems, sources)) from None
    from appcdn.program.stack_program import declare, export  # the provider SDKs load only for a valid config

    resources = run_under_mocks(
        lambda: export(declare(project, compiled)), own.project, stack, own.config, own.secret_keys
    )

    def rule(r: Any) -> dict[str, Any]:
        return {
            "ref": r.ref,
            "names": list(r.names),
            "action": r.action,
            "settings": dict(r.settings),
            "scopes": [{"hosts": list(s.hosts), "match": s.match.model_dump(mode="json")} for s in r.scopes],
        }

    zones = {
        name: {
            "plan": project.zone(name).plan,
            "polish": project.zone(name).images.polish,
            "cache": [rule(r) for r in rules.cache],
            "config": [rule(r) for r in rules.config],
        }
        for name, rules in compiled.items()
    }
    sites = [
        {"zone": name, "site": ss.site, "stage": ss.stage, "hosts": [*ss.hosts, *media_hosts(ss.media)]}
        for name in compiled
        for ss in site_stages(project, name)
        if project.owns(name) or ss.stage == project.stage
    ]
    return {
        "stack": stack,
        "stage": project.stage,
        "zones": zones,
        "sites": sites,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "protect": r.protect,
                "retain_on_delete": r.retain_on_delete,
                "inputs": r.inputs,
            }
            for r in resources
        ],
    }


def main(argv: list[str]) -> int:
    """``<project dir> <stack>``: the snapshot on stdout."""
    from appcdn.config.problems import ConfigError

    try:
        print(json.dumps(snapshot(Path(argv[0]), argv[1]), sort_keys=True))
    except (ConfigError, FileNotFoundError) as err:
        print(json.dumps({"error": err.report() if isinstance(err, ConfigError) else str(err)}))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
