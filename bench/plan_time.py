"""Wall time of the offline plan, side by side with the bare import of the provider SDKs it uses.

Every measurement is a fresh process, as a user's ``appcdn plan`` is, so each pays interpreter
start-up and its imports. The variants run in interleaved rounds so that machine noise hits them
alike; each is run once untimed first (warm page cache and .pyc files, and the check that every
plan exits 0 and, for generated stacks, declares the expected number of resources).

Run it with the project's venv: ``make bench`` or ``.venv/bin/python bench/plan_time.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
APPCDN = str(ROOT / ".venv" / "bin" / "appcdn")

REPS = 5
REPS_LARGE = 3  # for stacks of LARGE_SITES sites or more
LARGE_SITES = 100
SITE_COUNTS = (1, 10, LARGE_SITES)
SITES_PER_ZONE = 10  # enterprise allows 300 cache rules per zone; 10 generated sites compile to far fewer
# What an owned enterprise zone declares: the Zone component, its 8 settings (6 baseline, polish,
# webp) and its cache ruleset; no image rules, so no configuration ruleset.
RESOURCES_PER_ZONE = 1 + 8 + 1

TARGET_LIVE_RATIO = 1.3  # plan of the live stack / bare import of pulumi, pulumi_cloudflare
TARGET_LARGE_SECONDS = 10.0  # plan of LARGE_SITES sites


@dataclass
class Variant:
    label: str
    argv: list[str]
    reps: int
    is_plan: bool
    times: list[float] = field(default_factory=list)


def import_argv(*modules: str) -> list[str]:
    return [PYTHON, "-c", "import " + ", ".join(modules)]


def plan_argv(project_dir: Path) -> list[str]:
    return [APPCDN, "plan", "--stack", "live", "--json", "--cwd", str(project_dir)]


def timed(argv: list[str]) -> float:
    """Wall seconds of one run, output discarded; raises if it fails."""
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def check_plan(argv: list[str], expected_resources: int | None = None) -> int:
    """Run a plan once; fail loudly unless it exits 0 with the expected number of resources. Return it."""
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"plan failed (exit {result.returncode}): {' '.join(argv)}\n{result.stderr}")
    resources = json.loads(result.stdout)["resources"]
    if expected_resources is not None and len(resources) != expected_resources:
        types = Counter(r["type"] for r in resources)
        sys.exit(f"plan declared {len(resources)} resources, expected {expected_resources}: {' '.join(argv)}\n"
                 + "\n".join(f"  {n:5d}  {t}" for t, n in sorted(types.items())))
    return len(resources)


def site_config(i: int, zone: str) -> dict:
    """Site ``i``: one or two hosts, three cache rules, and Test hosts composed by this (Live) stack."""
    return {
        "name": f"site{i}",
        "zone": zone,
        "hosts": [f"site{i}.{zone}"] + ([f"www.site{i}.{zone}"] if i % 2 else []),
        "origin": f"site{i}-live.eu.aldryn.io",
        "cache": {"rules": [
            {"name": "media", "match": {"path_prefixes": ["/media/"]}, "action": "cache",
             "edge_ttl": {"mode": "override_origin", "default": 3600 * (1 + i % 3)}},
            {"name": "feeds", "match": {"paths": ["/feed/*", "/*/feed/*"]}, "action": "cache",
             "edge_ttl": {"mode": "override_origin", "default": 600}},
            {"name": "api", "match": {"path_prefixes": ["/api/"]}, "action": "bypass"},
        ]},
        "other_stages": {"test": {"hosts": [f"site{i}-test.{zone}"]}},
    }


def generate_project(sites: int, parent: Path) -> tuple[Path, int]:
    """A project directory whose live stack has ``sites`` sites; return it and the resources expected."""
    project = parent / f"sites-{sites}"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    zones: dict[str, dict] = {}
    site_list = []
    for i in range(sites):
        zone = f"zone{i // SITES_PER_ZONE}.example"
        zones.setdefault(zone, {"id": hashlib.md5(zone.encode()).hexdigest(), "plan": "enterprise", "owner": "live"})
        site_list.append(site_config(i, zone))
    config = {"appcdn:stage": "live", "appcdn:zones": zones, "appcdn:sites": site_list}
    (project / "stacks" / "Pulumi.live.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    expected = len(zones) * RESOURCES_PER_ZONE + sum(1 + len(s["hosts"]) for s in site_list)  # AppHosts + records
    return project, expected


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown CPU")
    python = subprocess.run([PYTHON, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: nproc {len(os.sched_getaffinity(0))}, {model}, {python} (venv), "
            f"{platform.system()} {platform.release()}, load average at start {load}")


def run_rounds(variants: list[Variant]) -> None:
    """Round r runs every variant that wants more than r repetitions, in a fixed order."""
    for r in range(max(v.reps for v in variants)):
        for v in variants:
            if r < v.reps:
                print(f"  round {r + 1}: {v.label} ...", end="", file=sys.stderr, flush=True)
                v.times.append(timed(v.argv))
                print(f" {v.times[-1]:.2f} s", file=sys.stderr)


def report(variants: list[Variant], import_median: float) -> None:
    header = ("variant", "runs", "median s", "min s", "plan / import")
    rows = [header]
    for v in variants:
        median = statistics.median(v.times)
        ratio = f"{median / import_median:.2f}" if v.is_plan else "-"
        rows.append((v.label, str(len(v.times)), f"{median:.2f}", f"{min(v.times):.2f}", ratio))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))


def main() -> None:
    print(machine())
    import_cloudflare = Variant("bare import pulumi, pulumi_cloudflare",
                                import_argv("pulumi", "pulumi_cloudflare"), REPS, is_plan=False)
    import_aws_azure = Variant("bare import pulumi_aws.s3, pulumi_azure_native.storage",
                               import_argv("pulumi_aws.s3", "pulumi_azure_native.storage"), REPS, is_plan=False)
    with tempfile.TemporaryDirectory(prefix="appcdn-bench-") as tmp:
        print("warm-up and checks, one untimed run of each variant ...", file=sys.stderr)
        timed(import_cloudflare.argv)
        timed(import_aws_azure.argv)
        live_resources = check_plan(plan_argv(ROOT))
        plan_live = Variant(f"plan live (shipped stack, {live_resources} resources)", plan_argv(ROOT), REPS,
                            is_plan=True)
        plan_sites = {}
        for sites in SITE_COUNTS:
            project, expected = generate_project(sites, Path(tmp))
            check_plan(plan_argv(project), expected)
            plan_sites[sites] = Variant(f"plan {sites} site{'s' if sites > 1 else ''} ({expected} resources)",
                                        plan_argv(project), REPS_LARGE if sites >= LARGE_SITES else REPS, is_plan=True)
        variants = [import_cloudflare, import_aws_azure, plan_live, *plan_sites.values()]
        run_rounds(variants)

    import_median = statistics.median(import_cloudflare.times)
    live_ratio = statistics.median(plan_live.times) / import_median
    large_median = statistics.median(plan_sites[LARGE_SITES].times)
    print()
    report(variants, import_median)
    print()
    print(f"target: plan live <= {TARGET_LIVE_RATIO} x bare import: {live_ratio:.2f} x -> "
          f"{'met' if live_ratio <= TARGET_LIVE_RATIO else 'MISSED'}")
    print(f"target: plan {LARGE_SITES} sites < {TARGET_LARGE_SECONDS:.0f} s: median {large_median:.2f} s -> "
          f"{'met' if large_median < TARGET_LARGE_SECONDS else 'MISSED'}")


if __name__ == "__main__":
    main()
