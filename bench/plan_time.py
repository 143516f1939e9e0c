"""Wall time of the offline plan, side by side with the bare import of the provider SDKs it uses.

Every measurement is a fresh process, as a user's ``appcdn plan`` is, so each pays interpreter
start-up and its imports. The variants run in interleaved rounds so that machine noise hits them
alike; each is run once untimed first (warm page cache and .pyc files, and the check that every
plan exits 0 and, for generated projects, declares exactly the expected resources, type by type).
Before anything runs, the script waits (at most BUSY_MAX_WAIT_SECONDS) until no test run (pytest,
the CI clone) is using the machine, and says so with the figures if it measured while one ran.

Run it with the project's venv: ``make bench`` or ``.venv/bin/python bench/plan_time.py``. The
subprocesses use the interpreter running this script and the ``appcdn`` script next to it, and must
import the ``appcdn`` of this checkout (from a git worktree: ``PYTHONPATH=$PWD``); checked at start-up.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import platform
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
PYTHON = sys.executable  # the project's venv (``make bench``), not resolved: its site-packages count
APPCDN = str(Path(sys.executable).parent / "appcdn")

REPS = 5
REPS_LARGE = 3  # for stacks of LARGE_SITES sites or more
LARGE_SITES = 100
SITE_COUNTS = (1, 10, LARGE_SITES)
SITES_PER_ZONE = 10  # per enterprise zone: far below its 300 cache rules and 300 Cloud Connector rules

# The provider SDK modules the program imports (``appcdn.program.stack_program.declare``, its config→args adapter and
# the
# components, including submodules reached as attributes such as ``aws.s3``): the bare-import baseline.
# Checked at start-up against the program's source, so the baseline cannot silently drift from what the
# program loads. (``appcdn plan`` runs ``declare`` itself; ``__main__.py`` is only ``pulumi up``'s entry.)
PROGRAM_SDK_MODULES = (
    "pulumi",
    "pulumi_cloudflare",
    "pulumi_aws",
    "pulumi_aws.s3",
    "pulumi_aws.acm",
    "pulumi_azure_native.resources",
    "pulumi_azure_native.storage",
    "pulumi_tls",
)
PROGRAM_SOURCES = ("appcdn/program/stack_program.py", "appcdn/program/component_args.py", "components/*.py")

TARGET_LIVE_RATIO = 1.3  # plan of the live stack / bare import of PROGRAM_SDK_MODULES
TARGET_LARGE_SECONDS = 10.0  # plan of LARGE_SITES sites

BUSY_PATTERN = "pytest|ci-clone"  # concurrent heavy work that would skew the figures
BUSY_POLL_SECONDS = 20
BUSY_MAX_WAIT_SECONDS = 2 * 60  # then measure anyway, and say so with the figures

# Resource types, as the plan's JSON names them.
T_ZONE, T_APP_HOSTS, T_S3_MEDIA, T_AZURE_MEDIA, T_SITE_CERTS = (
    f"appcdn:index:{c}" for c in ("Zone", "AppHosts", "S3Media", "AzureMedia", "SiteCertificates")
)
T_ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
T_RULESET = "cloudflare:index/ruleset:Ruleset"
T_CONNECTOR = "cloudflare:index/cloudConnectorRules:CloudConnectorRules"
T_MEDIA_HEADERS = "pulumi-python:dynamic/appcdn:MediaHeaders"
T_DNS = "cloudflare:index/dnsRecord:DnsRecord"
T_CERT_PACK = "cloudflare:index/certificatePack:CertificatePack"
T_ORIGIN_CA = "cloudflare:index/originCaCertificate:OriginCaCertificate"
T_TLS_KEY, T_TLS_CSR = "tls:index/privateKey:PrivateKey", "tls:index/certRequest:CertRequest"
T_ACM_CERT = "aws:acm/certificate:Certificate"
T_ACM_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
S3_CHILDREN = tuple(
    f"aws:s3/{m}:{m[0].upper()}{m[1:]}"
    for m in (
        "bucket",
        "bucketOwnershipControls",
        "bucketPublicAccessBlock",
        "bucketPolicy",
        "bucketServerSideEncryptionConfiguration",
        "bucketCorsConfiguration",
    )
)
S3_LIVE_CHILDREN = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
)
T_RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
T_STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
T_BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
T_CONTAINER = "azure-native:storage:BlobContainer"
# Zone settings an owned zone on Pro and above declares: the 6 baseline ones, polish and webp.
ZONE_SETTINGS_PRO = 8


@dataclass
class Variant:
    label: str
    argv: list[str]
    reps: int
    is_plan: bool
    times: list[float] = field(default_factory=list)


def import_argv(*modules: str) -> list[str]:
    """Import ``modules`` and load each. Pulumi SDK submodules are lazy (``pulumi._utils._LazyModule``):
    ``import pulumi_aws.s3`` only registers the module, whose body runs at the first attribute access,
    as the program's first ``aws.s3.Bucket`` does. So touch every module, and fail if one stayed lazy."""
    code = (
        f"import sys, {', '.join(modules)}\n"
        f"mods = [sys.modules[m] for m in {modules!r}]\n"
        "[getattr(m, '_appcdn_bench_load', None) for m in mods]\n"
        "lazy = [m.__name__ for m in mods if type(m).__name__ == '_LazyModule']\n"
        "assert not lazy, f'still lazy after an attribute access: {lazy}'\n"
    )
    return [PYTHON, "-c", code]


def plan_argv(project_dir: Path, stack: str = "live") -> list[str]:
    return [APPCDN, "plan", "--stack", stack, "--json", "--cwd", str(project_dir)]


def timed(argv: list[str]) -> float:
    """Wall seconds of one run, output discarded; raises if it fails."""
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _is_submodule(package: str, name: str) -> bool:
    """Whether ``package.name`` is a module file or package directory, found without importing ``package``."""
    spec = importlib.util.find_spec(package.split(".")[0])
    if spec is None or not spec.submodule_search_locations:
        return False
    base = Path(next(iter(spec.submodule_search_locations))).joinpath(*package.split(".")[1:], name)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def program_sdk_modules() -> set[str]:
    """Provider SDK modules the program's source imports: ``import``/``from`` statements of ``pulumi*``
    and submodules reached as attributes of an imported SDK (``aws.s3.Bucket`` → ``pulumi_aws.s3``).
    Only the top level of ``pulumi`` itself counts: its runtime modules are loaded by ``import pulumi``."""
    found: set[str] = set()
    for pattern in PROGRAM_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            tree = ast.parse(path.read_text(), str(path))
            aliases: dict[str, str] = {}  # local name → module
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for a in node.names:
                        if a.name.split(".")[0].startswith("pulumi"):
                            found.add(a.name)
                            aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                elif (
                    isinstance(node, ast.ImportFrom)
                    and node.level == 0
                    and node.module
                    and node.module.split(".")[0].startswith("pulumi")
                ):
                    for a in node.names:
                        if node.module.startswith("pulumi_") and _is_submodule(node.module, a.name):
                            found.add(f"{node.module}.{a.name}")
                            aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                        else:
                            found.add(node.module)
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    module = aliases.get(node.value.id)
                    if module and module.startswith("pulumi_") and _is_submodule(module, node.attr):
                        found.add(f"{module}.{node.attr}")
    return found


def check_baseline_modules() -> None:
    found = program_sdk_modules()
    if found != set(PROGRAM_SDK_MODULES):
        sys.exit(
            "the bare-import baseline no longer matches the SDK modules the program imports:\n"
            f"  imported by the program, not in PROGRAM_SDK_MODULES: {sorted(found - set(PROGRAM_SDK_MODULES))}\n"
            f"  in PROGRAM_SDK_MODULES, not imported by the program: {sorted(set(PROGRAM_SDK_MODULES) - found)}"
        )


def check_program_location() -> None:
    """The subprocesses must run this checkout's program: with an editable install made from another
    checkout, they would silently measure that one unless PYTHONPATH points here."""
    code = "import appcdn, components; print(appcdn.__file__); print(components.__file__)"
    found = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True, cwd="/").stdout.split()
    want = [str(ROOT / "appcdn" / "__init__.py"), str(ROOT / "components" / "__init__.py")]
    if [str(Path(f).resolve()) for f in found] != want:
        sys.exit(f"{PYTHON} imports {found}, not this checkout's {want}; run with PYTHONPATH={ROOT}")


def check_plan(argv: list[str], expected: Counter | None = None) -> int:
    """Run a plan once; fail loudly unless it exits 0 and declares exactly ``expected`` (type → count)."""
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"plan failed (exit {result.returncode}): {' '.join(argv)}\n{result.stderr}{result.stdout[-2000:]}")
    resources = json.loads(result.stdout)["resources"]
    if expected is not None:
        types = Counter(r["type"] for r in resources)
        if types != expected:
            rows = [
                f"  {types[t]:5d}  {expected[t]:8d}  {t}"
                for t in sorted(set(types) | set(expected))
                if types[t] != expected[t]
            ]
            sys.exit(
                f"plan declared {len(resources)} resources, expected {expected.total()}: {' '.join(argv)}\n"
                "  plan  expected  type (differing types only)\n" + "\n".join(rows)
            )
    return len(resources)


def site_config(i: int, zone: str) -> tuple[dict, dict]:
    """Site ``i`` of a zone of SITES_PER_ZONE sites, as the live and the test stack file declare it; its
    position ``p`` on the zone varies what it declares.

    Live (``stacks/Pulumi.live.yaml``): one or two hosts, three cache rules, and media, on S3 (even ``i``) or
    Azure (odd ``i``) with the default header rules. Most sites (all but p 9) serve media on a custom domain
    of the zone (p 7 with ``cache: false``). p 0, 4, 8: a per-path Polish rule. Certificates: p 0 holds the
    zone apex and an advanced pack for it, its first host and its media host; p 3 and 6 an Origin CA
    certificate for their hosts; p 5 an ACM certificate for its hosts.
    Test (``stacks/Pulumi.test.yaml``, what the live file's ``other_stages`` held before): one host and its
    origin, the default cache policy; p 2 also media on a custom domain of the zone, on S3 with a fixed
    bucket name (the zone's owner, live, routes the domain to it with its Cloud Connector rules).
    """
    p = i % SITES_PER_ZONE
    host = f"site{i}.{zone}"
    hosts = ([zone] if p == 0 else []) + [host] + ([f"www.{host}"] if i % 2 else [])
    media: dict = (
        {"backend": "aws", "aws": {"region": "eu-central-1"}}
        if i % 2 == 0
        else {"backend": "azure", "azure": {"location": "westeurope", "account_name": f"appcdnbench{i}media"}}
    )
    if p != 9:
        media["domain"] = {"host": f"media-site{i}.{zone}", "cache": p != 7}
    site: dict = {
        "name": f"site{i}",
        "zone": zone,
        "hosts": hosts,
        "origin": f"site{i}-live.eu.aldryn.io",
        "cache": {
            "rules": [
                {
                    "name": "media",
                    "match": {"path_prefixes": ["/media/"]},
                    "action": "cache",
                    "responses_set_no_cookies": True,
                    "edge_ttl": {"mode": "override_origin", "default": 3600 * (1 + i % 3)},
                },
                {
                    "name": "feeds",
                    "match": {"paths": ["/feed/*", "/*/feed/*"]},
                    "action": "cache",
                    "responses_set_no_cookies": True,
                    "edge_ttl": {"mode": "override_origin", "default": 3600},
                },
                {"name": "api", "match": {"path_prefixes": ["/api/"]}, "action": "bypass"},
            ]
        },
        "media": media,
    }
    if p % 4 == 0:
        site["images"] = [{"name": "photos", "match": {"path_prefixes": ["/media/photos/"]}, "polish": "lossy"}]
    if p == 0:
        site["certificates"] = [
            {
                "name": "edge",
                "mode": "advanced",
                "certificate_authority": "google",
                "validity_days": 90,
                "hosts": [zone, host, media["domain"]["host"]],
            }
        ]
    elif p in (3, 6):
        site["certificates"] = [{"name": "origin", "mode": "origin_ca", "hosts": list(hosts)}]
    elif p == 5:
        site["certificates"] = [{"name": "cloudfront", "mode": "acm", "hosts": list(hosts)}]
    test: dict = {
        "name": f"site{i}",
        "zone": zone,
        "hosts": [f"site{i}-test.{zone}"],
        "origin": f"site{i}-test.eu.aldryn.io",
    }
    if p == 2:
        test["media"] = {
            "backend": "aws",
            "aws": {"region": "eu-central-1", "bucket_name": f"appcdn-bench-site{i}-test"},
            "domain": {"host": f"media-site{i}-test.{zone}"},
        }
    return site, test


def expected_resources(stage: str, zones: dict[str, dict], sites: list[dict], all_sites: list[dict]) -> Counter:
    """What the ``stage`` stack of the generated project must declare, type → count, from each component's
    make-up: ``zones`` the zones it owns, ``sites`` its own sites, ``all_sites`` every stage's sites.

    Zone (owned, existing, Pro or above): the component, its 8 settings, its cache ruleset, a configuration
    ruleset if one of its own sites has image rules, a Cloud Connector list if a site of any stage on it has
    a media domain. A zone owned by another stack declares nothing (its id is in the owner's file).
    Site: AppHosts (app) with a DNS record per host; S3Media with 6 children, plus versioning and lifecycle
    on live, or AzureMedia with a resource group, an account, its blob service and the private and public
    containers; with media, the MediaHeaders dynamic resource (header reconcile on ``up``, on by default);
    a media domain: AppHosts with one DNS record; certificates: a SiteCertificates component
    with, per certificate, advanced: a pack; origin_ca: key, CSR, Origin CA certificate; acm: the certificate
    (per-resource region, no provider of its own), its validation and a DNS validation record per host.
    """
    want: Counter = Counter()
    for zone in zones:
        want.update({T_ZONE: 1, T_ZONE_SETTING: ZONE_SETTINGS_PRO, T_RULESET: 1})
        want[T_RULESET] += any(s.get("images") for s in sites if s["zone"] == zone)
        want[T_CONNECTOR] += any((s.get("media") or {}).get("domain") for s in all_sites if s["zone"] == zone)
    for s in sites:
        want.update({T_APP_HOSTS: 1, T_DNS: len(s["hosts"])})
        media = s.get("media") or {}
        if media.get("backend") == "aws":
            want.update([T_S3_MEDIA, *S3_CHILDREN, *(S3_LIVE_CHILDREN if stage == "live" else ())])
        elif media.get("backend") == "azure":
            public = media.get("public_prefixes", ["filer_public/"]) != []
            want.update([T_AZURE_MEDIA, T_RESOURCE_GROUP, T_STORAGE_ACCOUNT, T_BLOB_SERVICE, T_CONTAINER])
            want[T_CONTAINER] += public
        if media and media.get("sync_headers_on_deploy", True):
            want[T_MEDIA_HEADERS] += 1
        if media.get("domain"):
            want.update([T_APP_HOSTS, T_DNS])
        if s.get("certificates"):
            want[T_SITE_CERTS] += 1
        for cert in s.get("certificates", []):
            if cert["mode"] == "advanced":
                want[T_CERT_PACK] += 1
            elif cert["mode"] == "origin_ca":
                want.update([T_TLS_KEY, T_TLS_CSR, T_ORIGIN_CA])
            elif cert["mode"] == "acm":
                want.update([T_ACM_CERT, T_ACM_VALIDATION])
                want[T_DNS] += len(cert["hosts"])
            else:
                raise ValueError(f"no expectation for certificate mode {cert['mode']!r}")
    return +want


def edge_only(site: dict) -> dict:
    """The site as the foundation knew it: hosts, cache policy, images; no media, no certificates."""
    return {k: v for k, v in site.items() if k not in ("media", "certificates")}


def generate_project(sites: int, parent: Path, full: bool = True) -> tuple[Path, dict[str, Counter]]:
    """A project directory (``Pulumi.yaml`` and ``stacks/``) of ``sites`` sites: a live stack file declaring
    the zones and the live sites, a test stack file with the Test sites (``full``: with media and
    certificates); return it and the resources expected of each stack."""
    project = parent / f"sites-{sites}{'' if full else '-edge'}"
    (project / "stacks").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    zones: dict[str, dict] = {}
    stage_sites: dict[str, list[dict]] = {"live": [], "test": []}
    for i in range(sites):
        zone = f"zone{i // SITES_PER_ZONE}.example"
        zones.setdefault(
            zone,
            {
                "id": hashlib.md5(zone.encode()).hexdigest(),
                "plan": "enterprise",
                "images": {"polish": "lossless", "webp": True},
            },
        )
        for stage, site in zip(("live", "test"), site_config(i, zone)):
            stage_sites[stage].append(site if full else edge_only(site))
    owned = {"live": zones, "test": {}}
    expected = {}
    for stage, own_sites in stage_sites.items():
        config = {
            "appcdn:stage": stage,
            **({"appcdn:zones": owned[stage]} if owned[stage] else {}),
            "appcdn:sites": own_sites,
        }
        (project / "stacks" / f"Pulumi.{stage}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        expected[stage] = expected_resources(stage, owned[stage], own_sites, stage_sites["live"] + stage_sites["test"])
    return project, expected


def busy_processes() -> list[str]:
    """Processes (pid and command line) matching BUSY_PATTERN, other than this script."""
    busy = subprocess.run(["pgrep", "-af", BUSY_PATTERN], capture_output=True, text=True).stdout.splitlines()
    return [line for line in busy if str(os.getpid()) != line.split(" ", 1)[0]]


def wait_until_quiet() -> str:
    """Wait (polling) until no process matches BUSY_PATTERN, at most BUSY_MAX_WAIT_SECONDS; say what happened."""
    start = time.monotonic()
    while True:
        busy = busy_processes()
        waited = time.monotonic() - start
        if not busy:
            return f"no {BUSY_PATTERN!r} process running at the start (waited {waited:.0f} s)"
        if waited >= BUSY_MAX_WAIT_SECONDS:
            print(f"WARNING: still busy after {waited:.0f} s; measuring anyway", file=sys.stderr)
            return f"WARNING: measurement started while {len(busy)} {BUSY_PATTERN!r} process(es) ran: " + "; ".join(
                line[:80] for line in busy[:3]
            )
        print(
            f"waiting for {len(busy)} {BUSY_PATTERN!r} process(es) to finish ({waited:.0f} s so far): {busy[0][:100]}",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(BUSY_POLL_SECONDS)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    python = subprocess.run([PYTHON, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: nproc {len(os.sched_getaffinity(0))}, {model}, {python} (venv), "
        f"{platform.system()} {platform.release()}, load average at start {load}"
    )


def run_rounds(variants: list[Variant]) -> list[str]:
    """Round r runs every variant that wants more than r repetitions, in a fixed order. Before each timed run
    (outside its timing) look for BUSY_PATTERN processes; return a line per run that had company."""
    company = []
    for r in range(max(v.reps for v in variants)):
        for v in variants:
            if r < v.reps:
                busy = busy_processes()
                print(f"  round {r + 1}: {v.label} ...", end="", file=sys.stderr, flush=True)
                v.times.append(timed(v.argv))
                print(f" {v.times[-1]:.2f} s" + (f"  ({len(busy)} busy process(es))" if busy else ""), file=sys.stderr)
                if busy:
                    company.append(f"round {r + 1}, {v.label}: {busy[0][:80]}")
    return company


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
    check_baseline_modules()
    check_program_location()
    quiet = wait_until_quiet()
    print(machine())
    print(quiet)
    print(f"bare import: import {', '.join(PROGRAM_SDK_MODULES)}; each module loaded (SDK submodules are lazy)")
    import_sdks = Variant(
        "bare import of the program's SDK modules", import_argv(*PROGRAM_SDK_MODULES), REPS, is_plan=False
    )
    with tempfile.TemporaryDirectory(prefix="appcdn-bench-") as tmp:
        print("warm-up and checks, one untimed run of each variant ...", file=sys.stderr)
        timed(import_sdks.argv)
        live_resources = check_plan(plan_argv(ROOT))
        plan_live = Variant(
            f"plan live (shipped stack, {live_resources} resources)", plan_argv(ROOT), REPS, is_plan=True
        )
        plan_sites: dict[tuple[int, str], Variant] = {}
        for sites in SITE_COUNTS:
            project, expected = generate_project(sites, Path(tmp))
            for stack in ("live", "test"):
                check_plan(plan_argv(project, stack), expected[stack])
                plan_sites[(sites, stack)] = Variant(
                    f"plan {sites} site{'s' if sites > 1 else ''}, {stack} stack ({expected[stack].total()} resources)",
                    plan_argv(project, stack),
                    REPS_LARGE if sites >= LARGE_SITES else REPS,
                    is_plan=True,
                )
        project, expected = generate_project(LARGE_SITES, Path(tmp), full=False)
        check_plan(plan_argv(project), expected["live"])
        plan_edge = Variant(
            f"plan {LARGE_SITES} edge-only sites, live stack ({expected['live'].total()} resources)",
            plan_argv(project),
            REPS_LARGE,
            is_plan=True,
        )
        variants = [import_sdks, plan_live, *plan_sites.values(), plan_edge]
        company = run_rounds(variants)

    import_median = statistics.median(import_sdks.times)
    live_ratio = statistics.median(plan_live.times) / import_median
    large_median = statistics.median(plan_sites[(LARGE_SITES, "live")].times)
    edge_median = statistics.median(plan_edge.times)
    print()
    report(variants, import_median)
    print()
    print(
        f"target: plan live <= {TARGET_LIVE_RATIO} x bare import: {live_ratio:.2f} x -> "
        f"{'met' if live_ratio <= TARGET_LIVE_RATIO else 'MISSED'}"
    )
    for label, median in (("edge-only sites", edge_median), ("full sites", large_median)):
        print(
            f"target: plan {LARGE_SITES} {label} (live stack) < {TARGET_LARGE_SECONDS:.0f} s: "
            f"median {median:.2f} s -> {'met' if median < TARGET_LARGE_SECONDS else 'MISSED'}"
        )
    print()
    print(quiet)
    if company:
        print(
            f"WARNING: {len(company)} of {sum(len(v.times) for v in variants)} timed runs started while "
            f"{BUSY_PATTERN!r} processes ran, e.g. " + "; ".join(company[:3])
        )
    else:
        print(f"no {BUSY_PATTERN!r} process seen before any timed run")


if __name__ == "__main__":
    main()
