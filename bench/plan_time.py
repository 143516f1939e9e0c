"""Wall time of the offline plan, side by side with the bare import of the provider SDKs it uses.

Every measurement is a fresh process, as a user's ``appcdn plan`` is, so each pays interpreter
start-up and its imports. The variants run in interleaved rounds so that machine noise hits them
alike; each is run once untimed first (warm page cache and .pyc files, and the check that every
plan exits 0 and, for generated stacks, declares exactly the expected resources, type by type).
Before anything runs, the script waits until no test run (pytest, the CI clone) is using the machine.

Run it with the project's venv: ``make bench`` or ``.venv/bin/python bench/plan_time.py``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
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
SITES_PER_ZONE = 10  # per enterprise zone: far below its 300 cache rules and 300 Cloud Connector rules

# The provider SDK modules the program imports (``__main__.py`` and ``components/*.py``, including
# submodules reached as attributes such as ``aws.s3``): the bare-import baseline. Checked at start-up
# against the program's source, so the baseline cannot silently drift from what the program loads.
PROGRAM_SDK_MODULES = ("pulumi", "pulumi_cloudflare", "pulumi_aws", "pulumi_aws.s3", "pulumi_aws.acm",
                       "pulumi_azure_native.resources", "pulumi_azure_native.storage", "pulumi_tls")
PROGRAM_SOURCES = ("__main__.py", "components/*.py")

TARGET_LIVE_RATIO = 1.3  # plan of the live stack / bare import of PROGRAM_SDK_MODULES
TARGET_LARGE_SECONDS = 10.0  # plan of LARGE_SITES sites

BUSY_PATTERN = "pytest|ci-clone"  # concurrent heavy work that would skew the figures
BUSY_POLL_SECONDS = 20
BUSY_MAX_WAIT_SECONDS = 15 * 60

# Resource types, as the plan's JSON names them.
T_ZONE, T_APP_HOSTS, T_S3_MEDIA, T_AZURE_MEDIA, T_SITE_CERTS = (
    f"appcdn:index:{c}" for c in ("Zone", "AppHosts", "S3Media", "AzureMedia", "SiteCertificates"))
T_ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
T_RULESET = "cloudflare:index/ruleset:Ruleset"
T_CONNECTOR = "cloudflare:index/cloudConnectorRules:CloudConnectorRules"
T_DNS = "cloudflare:index/dnsRecord:DnsRecord"
T_CERT_PACK = "cloudflare:index/certificatePack:CertificatePack"
T_ORIGIN_CA = "cloudflare:index/originCaCertificate:OriginCaCertificate"
T_TLS_KEY, T_TLS_CSR = "tls:index/privateKey:PrivateKey", "tls:index/certRequest:CertRequest"
T_ACM_CERT = "aws:acm/certificate:Certificate"
T_ACM_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
S3_CHILDREN = tuple(f"aws:s3/{m}:{m[0].upper()}{m[1:]}" for m in (
    "bucket", "bucketOwnershipControls", "bucketPublicAccessBlock", "bucketPolicy",
    "bucketServerSideEncryptionConfiguration", "bucketCorsConfiguration"))
S3_LIVE_CHILDREN = ("aws:s3/bucketVersioning:BucketVersioning",
                    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
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
    code = (f"import sys, {', '.join(modules)}\n"
            f"mods = [sys.modules[m] for m in {modules!r}]\n"
            "[getattr(m, '_appcdn_bench_load', None) for m in mods]\n"
            "lazy = [m.__name__ for m in mods if type(m).__name__ == '_LazyModule']\n"
            "assert not lazy, f'still lazy after an attribute access: {lazy}'\n")
    return [PYTHON, "-c", code]


def plan_argv(project_dir: Path) -> list[str]:
    return [APPCDN, "plan", "--stack", "live", "--json", "--cwd", str(project_dir)]


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
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                        and node.module.split(".")[0].startswith("pulumi"):
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
        sys.exit("the bare-import baseline no longer matches the SDK modules the program imports:\n"
                 f"  imported by the program, not in PROGRAM_SDK_MODULES: {sorted(found - set(PROGRAM_SDK_MODULES))}\n"
                 f"  in PROGRAM_SDK_MODULES, not imported by the program: {sorted(set(PROGRAM_SDK_MODULES) - found)}")


def check_plan(argv: list[str], expected: Counter | None = None) -> int:
    """Run a plan once; fail loudly unless it exits 0 and declares exactly ``expected`` (type → count)."""
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"plan failed (exit {result.returncode}): {' '.join(argv)}\n{result.stderr}{result.stdout[-2000:]}")
    resources = json.loads(result.stdout)["resources"]
    if expected is not None:
        types = Counter(r["type"] for r in resources)
        if types != expected:
            rows = [f"  {types[t]:5d}  {expected[t]:8d}  {t}" for t in sorted(set(types) | set(expected))
                    if types[t] != expected[t]]
            sys.exit(f"plan declared {len(resources)} resources, expected {expected.total()}: {' '.join(argv)}\n"
                     "  plan  expected  type (differing types only)\n" + "\n".join(rows))
    return len(resources)


def site_config(i: int, zone: str) -> dict:
    """Site ``i`` of a zone of SITES_PER_ZONE sites; its position ``p`` on the zone varies what it declares.

    Every site: one or two hosts, three cache rules, Test hosts composed by this (Live) stack, and media,
    on S3 (even ``i``) or Azure (odd ``i``) with the default header rules. Most sites (all but p 9) serve
    media on a custom domain of the zone (p 7 with ``cache: false``). p 0, 4, 8: a per-path Polish rule.
    p 2: Test media on a custom domain too (routed by this stack's Cloud Connector rules). Certificates:
    p 0 holds the zone apex and an advanced pack for it, its first host and its media host; p 3 and 6 an
    Origin CA certificate for their hosts; p 5 an ACM certificate for its hosts.
    """
    p = i % SITES_PER_ZONE
    host = f"site{i}.{zone}"
    hosts = ([zone] if p == 0 else []) + [host] + ([f"www.{host}"] if i % 2 else [])
    media: dict = {"backend": "aws", "aws": {"region": "eu-central-1"}} if i % 2 == 0 else \
        {"backend": "azure", "azure": {"location": "westeurope", "account_name": f"appcdnbench{i}media"}}
    if p != 9:
        media["domain"] = {"host": f"media-site{i}.{zone}", "cache": p != 7}
    site: dict = {
        "name": f"site{i}",
        "zone": zone,
        "hosts": hosts,
        "origin": f"site{i}-live.eu.aldryn.io",
        "cache": {"rules": [
            {"name": "media", "match": {"path_prefixes": ["/media/"]}, "action": "cache",
             "edge_ttl": {"mode": "override_origin", "default": 3600 * (1 + i % 3)}},
            {"name": "feeds", "match": {"paths": ["/feed/*", "/*/feed/*"]}, "action": "cache",
             "edge_ttl": {"mode": "override_origin", "default": 600}},
            {"name": "api", "match": {"path_prefixes": ["/api/"]}, "action": "bypass"},
        ]},
        "media": media,
        "other_stages": {"test": {"hosts": [f"site{i}-test.{zone}"]}},
    }
    if p % 4 == 0:
        site["images"] = [{"name": "photos", "match": {"path_prefixes": ["/media/photos/"]}, "polish": "lossy"}]
    if p == 2:
        site["other_stages"]["test"]["media"] = {
            "backend": "aws", "aws": {"region": "eu-central-1", "bucket_name": f"appcdn-bench-site{i}-test"},
            "domain": {"host": f"media-site{i}-test.{zone}"}}
    if p == 0:
        site["certificates"] = [{"name": "edge", "mode": "advanced", "certificate_authority": "google",
                                 "validity_days": 90, "hosts": [zone, host, media["domain"]["host"]]}]
    elif p in (3, 6):
        site["certificates"] = [{"name": "origin", "mode": "origin_ca", "hosts": list(hosts)}]
    elif p == 5:
        site["certificates"] = [{"name": "cloudfront", "mode": "acm", "hosts": list(hosts)}]
    return site


def expected_resources(zones: dict[str, dict], sites: list[dict]) -> Counter:
    """What the Live stack of the generated config must declare, type → count, from each component's make-up.

    Zone (owned, existing, Pro or above): the component, its 8 settings, its cache ruleset, a configuration
    ruleset if a site has image rules, a Cloud Connector list if a site (any stage) has a media domain.
    Site: AppHosts (app) with a DNS record per host; S3Media with 6 children plus versioning and lifecycle
    (Live), or AzureMedia with a resource group, an account, its blob service and the private and public
    containers; a media domain: AppHosts with one DNS record; certificates: a SiteCertificates component
    with, per certificate, advanced: a pack; origin_ca: key, CSR, Origin CA certificate; acm: the certificate
    (per-resource region, no provider of its own), its validation and a DNS validation record per host.
    """
    want: Counter = Counter()
    for zone in zones:
        on_zone = [s for s in sites if s["zone"] == zone]
        want.update({T_ZONE: 1, T_ZONE_SETTING: ZONE_SETTINGS_PRO, T_RULESET: 1})
        want[T_RULESET] += any(s.get("images") for s in on_zone)
        want[T_CONNECTOR] += any(m and m.get("domain") for s in on_zone for m in
                                 [s.get("media")] + [o.get("media") for o in s.get("other_stages", {}).values()])
    for s in sites:
        want.update({T_APP_HOSTS: 1, T_DNS: len(s["hosts"])})
        media = s.get("media") or {}
        if media.get("backend") == "aws":
            want.update([T_S3_MEDIA, *S3_CHILDREN, *S3_LIVE_CHILDREN])
        elif media.get("backend") == "azure":
            public = media.get("public_prefixes", ["filer_public/"]) != []
            want.update([T_AZURE_MEDIA, T_RESOURCE_GROUP, T_STORAGE_ACCOUNT, T_BLOB_SERVICE, T_CONTAINER])
            want[T_CONTAINER] += public
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
    """The site as the foundation knew it: hosts, cache policy, images, Test hosts; no media, no certificates."""
    site = {k: v for k, v in site.items() if k not in ("media", "certificates")}
    site["other_stages"] = {stage: {k: v for k, v in other.items() if k != "media"}
                            for stage, other in site["other_stages"].items()}
    return site


def generate_project(sites: int, parent: Path, full: bool = True) -> tuple[Path, Counter]:
    """A project directory whose live stack has ``sites`` sites (``full``: with media and certificates);
    return it and the resources expected."""
    project = parent / f"sites-{sites}{'' if full else '-edge'}"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    zones: dict[str, dict] = {}
    site_list = []
    for i in range(sites):
        zone = f"zone{i // SITES_PER_ZONE}.example"
        zones.setdefault(zone, {"id": hashlib.md5(zone.encode()).hexdigest(), "plan": "enterprise", "owner": "live",
                                "images": {"polish": "lossless", "webp": True}})
        site_list.append(site_config(i, zone) if full else edge_only(site_config(i, zone)))
    config = {"appcdn:stage": "live", "appcdn:zones": zones, "appcdn:sites": site_list}
    (project / "stacks" / "Pulumi.live.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return project, expected_resources(zones, site_list)


def wait_until_quiet() -> str:
    """Wait (polling) until no process matches BUSY_PATTERN, at most BUSY_MAX_WAIT_SECONDS; say what happened."""
    start = time.monotonic()
    while True:
        busy = subprocess.run(["pgrep", "-af", BUSY_PATTERN], capture_output=True, text=True).stdout.splitlines()
        busy = [line for line in busy if str(os.getpid()) != line.split(" ", 1)[0]]
        waited = time.monotonic() - start
        if not busy:
            return f"no {BUSY_PATTERN!r} process running (waited {waited:.0f} s)"
        if waited >= BUSY_MAX_WAIT_SECONDS:
            print(f"WARNING: still busy after {waited:.0f} s; measuring anyway", file=sys.stderr)
            return f"WARNING: measured while {len(busy)} {BUSY_PATTERN!r} process(es) ran: " + \
                "; ".join(line[:80] for line in busy[:3])
        print(f"waiting for {len(busy)} {BUSY_PATTERN!r} process(es) to finish ({waited:.0f} s so far): "
              f"{busy[0][:100]}", file=sys.stderr, flush=True)
        time.sleep(BUSY_POLL_SECONDS)


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
    check_baseline_modules()
    quiet = wait_until_quiet()
    print(machine())
    print(quiet)
    print(f"bare import: import {', '.join(PROGRAM_SDK_MODULES)}; each module loaded (SDK submodules are lazy)")
    import_sdks = Variant("bare import of the program's SDK modules", import_argv(*PROGRAM_SDK_MODULES), REPS,
                          is_plan=False)
    with tempfile.TemporaryDirectory(prefix="appcdn-bench-") as tmp:
        print("warm-up and checks, one untimed run of each variant ...", file=sys.stderr)
        timed(import_sdks.argv)
        live_resources = check_plan(plan_argv(ROOT))
        plan_live = Variant(f"plan live (shipped stack, {live_resources} resources)", plan_argv(ROOT), REPS,
                            is_plan=True)
        plan_sites = {}
        for sites in SITE_COUNTS:
            project, expected = generate_project(sites, Path(tmp))
            check_plan(plan_argv(project), expected)
            plan_sites[sites] = Variant(f"plan {sites} site{'s' if sites > 1 else ''} ({expected.total()} resources)",
                                        plan_argv(project), REPS_LARGE if sites >= LARGE_SITES else REPS, is_plan=True)
        project, expected = generate_project(LARGE_SITES, Path(tmp), full=False)
        check_plan(plan_argv(project), expected)
        plan_edge = Variant(f"plan {LARGE_SITES} edge-only sites ({expected.total()} resources)", plan_argv(project),
                            REPS_LARGE, is_plan=True)
        variants = [import_sdks, plan_live, *plan_sites.values(), plan_edge]
        run_rounds(variants)

    import_median = statistics.median(import_sdks.times)
    live_ratio = statistics.median(plan_live.times) / import_median
    large_median = statistics.median(plan_sites[LARGE_SITES].times)
    edge_median = statistics.median(plan_edge.times)
    print()
    report(variants, import_median)
    print()
    print(f"target: plan live <= {TARGET_LIVE_RATIO} x bare import: {live_ratio:.2f} x -> "
          f"{'met' if live_ratio <= TARGET_LIVE_RATIO else 'MISSED'}")
    for label, median in (("edge-only sites", edge_median), ("full sites", large_median)):
        print(f"target: plan {LARGE_SITES} {label} < {TARGET_LARGE_SECONDS:.0f} s: median {median:.2f} s -> "
              f"{'met' if median < TARGET_LARGE_SECONDS else 'MISSED'}")


if __name__ == "__main__":
    main()
