"""Wall time of the offline plan, side by side with the bare import of the provider SDKs it uses.

Every measurement is a fresh process, as a user's ``appcdn plan`` is, so each pays interpreter
start-up and its imports. The variants run in interleaved rounds so that machine noise hits them
alike; each is run once untimed first (warm page cache and .pyc files, written even where PYTHONDONTWRITEBYTECODE
is set, and the check that every
plan exits 0 and, for generated projects, declares exactly the expected resources, type by type).
Before anything runs, the script waits (at most BUSY_MAX_WAIT_SECONDS) until no test run (pytest) or CI
run (``.ci/run``) is using the machine, and says so with the figures if it measured while one ran.

Every plan run has a wall-clock budget (``--budget``, or ``APPCDN_BENCH_BUDGET``; DEFAULT_BUDGET_SECONDS): a run
over it is killed (its whole process group) and its row says "> N s — target missed", with the CPU time and peak
memory it had used when killed; that variant is not run again, and the rest of the table is still measured. So the
script ends in bounded time however slow the program is. It exits 0 when it measured, whatever the targets say
(a missed target is a measurement, as in ``setup_time.py``), and non-zero only when it could not measure: a plan
that fails, a stack that declares other resources than expected, a baseline that drifted.

Run it with the project's venv: ``make bench`` or ``.venv/bin/python bench/plan_time.py``. The
subprocesses use the interpreter running this script and the ``appcdn`` script next to it, and must
import the ``appcdn`` of this checkout (from a git worktree: ``PYTHONPATH=$PWD``); checked at start-up.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from busy import BUSY, busy_processes

from appcdn.commands.plan.mock_engine import PLAN_COLLECTION_THRESHOLDS

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable  # the project's venv (``make bench``), not resolved: its site-packages count
APPCDN = str(Path(sys.executable).parent / "appcdn")

REPS = 3
DEFAULT_BUDGET_SECONDS = 180.0  # wall clock per run of a plan; ``--budget`` or APPCDN_BENCH_BUDGET
BUDGET_ENV = "APPCDN_BENCH_BUDGET"
SITES_PER_ZONE = 10  # "full sites": per enterprise zone, far below its 300 cache rules and Cloud Connector rules
FULL_SITES = 100
ONE_ZONE_SITES = (100, 300, 1000)  # edge-only sites, all on one Enterprise zone
RULES = 250  # cache rules of one site on an Enterprise zone (limit 300)
MIXED_RULES = (40, 80)  # rules of five overlapping kinds: measured, no target of issue 19

# The provider SDK modules the program imports (``appcdn.program.stack_program.declare``, its config→args adapter
# and the components, including submodules reached as attributes such as ``aws.s3``): the bare-import baseline.
# Checked at start-up (and by tests/test_bench.py) against the program's source, so the baseline cannot
# silently drift from what the program loads. (``appcdn plan`` runs ``declare`` itself; ``__main__.py`` is only
# ``pulumi up``'s entry.)
PROGRAM_SDK_MODULES = (
    "pulumi",
    "pulumi.dynamic",
    "pulumi_aws",
    "pulumi_aws.acm",
    "pulumi_aws.cloudwatch",
    "pulumi_aws.elasticache",
    "pulumi_aws.iam",
    "pulumi_aws.lambda_",
    "pulumi_aws.s3",
    "pulumi_azure_native.redis",
    "pulumi_azure_native.resources",
    "pulumi_azure_native.storage",
    "pulumi_cloudflare",
    "pulumi_random",
    "pulumi_tls",
)
PROGRAM_SOURCES = ("appcdn/program/stack_program.py", "appcdn/program/component_args.py", "components/*.py")

# Issue 19's targets: wall time (median) as a ratio to the bare import in the same run; in seconds on the
# 2-core machine the issue was measured on (bare import about 2.6 s), for reference.
TARGET_LIVE = 1.15
TARGET_FULL = 2.0  # 100 full sites; 5 s there
TARGET_FULL_OVER_SDK = 1.25  # 100 full sites / their resources through the SDKs' classes alone (sdk_floor.py)
TARGET_ONE_ZONE = 6.0  # 1 000 edge-only sites on one zone; 15 s there
TARGET_LINEAR = 12.0  # (1 000 sites - bare import) / (100 sites - bare import), both on one zone
TARGET_RULES = 2.0  # 250 cache rules; 5 s there
TARGET_RULES_MB = 400

BUSY_POLL_SECONDS = 20
BUSY_MAX_WAIT_SECONDS = 2 * 60  # then measure anyway, and say so with the figures

# Resource types, as the plan's JSON names them.
T_ZONE, T_APP_HOSTS, T_S3_MEDIA, T_AZURE_MEDIA, T_SITE_CERTS = (
    f"appcdn:index:{c}" for c in ("Zone", "AppHosts", "S3Media", "AzureMedia", "SiteCertificates")
)
T_PURGE_TOKEN, T_API_TOKEN = "appcdn:index:PurgeToken", "cloudflare:index/apiToken:ApiToken"
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
class Run:
    wall: float
    cpu: float
    """User and system seconds of the process."""
    peak_mb: float
    """Its peak resident memory."""
    killed: bool = False
    """Over its budget and killed: ``wall`` is the budget, ``cpu`` and ``peak_mb`` what it had used by then."""


@dataclass
class Variant:
    label: str
    argv: list[str]
    reps: int
    is_plan: bool
    runs: list[Run] = field(default_factory=list)

    @property
    def over_budget(self) -> bool:
        """A run of it was killed at the budget: no time is known for it, only that it is longer."""
        return any(r.killed for r in self.runs)

    def median(self, what: str = "wall") -> float:
        return statistics.median(getattr(r, what) for r in self.runs if not r.killed)


def import_argv(*modules: str, as_the_plan: bool = False) -> list[str]:
    """Import ``modules`` and load each. Pulumi SDK submodules are lazy (``pulumi._utils._LazyModule``):
    ``import pulumi_aws.s3`` only registers the module, whose body runs at the first attribute access,
    as the program's first ``aws.s3.Bucket`` does. So touch every module, and fail if one stayed lazy.
    ``as_the_plan``: the way ``appcdn plan`` imports them, with the garbage collector paced as the plan paces it
    (``mock_engine.fewer_collections``), and the process ended without the interpreter's teardown, as the
    ``appcdn`` executable ends (``cli.command``)."""
    code = (
        (f"import gc\ngc.set_threshold(*{PLAN_COLLECTION_THRESHOLDS!r})\n" if as_the_plan else "")
        + f"import sys, {', '.join(modules)}\n"
        f"mods = [sys.modules[m] for m in {modules!r}]\n"
        "[getattr(m, '_appcdn_bench_load', None) for m in mods]\n"
        "lazy = [m.__name__ for m in mods if type(m).__name__ == '_LazyModule']\n"
        "assert not lazy, f'still lazy after an attribute access: {lazy}'\n"
        + ("import os\nos._exit(0)\n" if as_the_plan else "")
    )
    return [PYTHON, "-c", code]


def sdk_floor_argv(plan_json: Path) -> list[str]:
    """The resources of a plan's output registered again through the SDKs' classes, no appcdn code
    (``sdk_floor.py``), after the bare import's modules."""
    return [PYTHON, str(ROOT / "bench" / "sdk_floor.py"), str(plan_json), *PROGRAM_SDK_MODULES]


def plan_argv(project_dir: Path, stack: str = "live") -> list[str]:
    return [APPCDN, "plan", "--stack", stack, "--json", "--cwd", str(project_dir)]


def run_env() -> dict[str, str]:
    """A measured process's environment: bytecode is written (by the untimed run) and read (by the timed ones), as
    on a user's machine after the first run, also where PYTHONDONTWRITEBYTECODE is set; with it every run would
    compile the ~1 250 modules it imports again (seconds), which would dwarf what the benchmark compares."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measured(argv: list[str], budget: float, capture: bool = False) -> tuple[Run, str]:
    """One run in a process (and process group) of its own: wall time, CPU time and peak memory (``wait4``'s
    resource usage of that process alone), and its standard output if ``capture`` (else discarded). Over
    ``budget`` seconds of wall time the group is killed and the run comes back ``killed``; exits if it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # files: no pipe to fill up
        start = time.perf_counter()
        process = subprocess.Popen(
            argv, stdout=out if capture else subprocess.DEVNULL, stderr=err, start_new_session=True, env=run_env()
        )
        over = threading.Event()

        def kill() -> None:
            over.set()
            with contextlib.suppress(ProcessLookupError):  # it ended as the budget ran out
                os.killpg(process.pid, signal.SIGKILL)  # the group outlives its leader until reaped below

        timer = threading.Timer(budget, kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        timer.join()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        run = Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, killed=over.is_set())
        if run.killed:
            return Run(budget, run.cpu, run.peak_mb, killed=True), ""
        out.seek(0)
        err.seek(0)
        if process.returncode:
            tail = out.read()[-2000:].decode(errors="replace")
            stderr = err.read().decode(errors="replace")
            sys.exit(f"failed (exit {process.returncode}): {' '.join(argv)}\n{stderr}{tail}")
        sys.stderr.write(err.read().decode(errors="replace"))
        return run, out.read().decode()


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
    code = "import appcdn.components; print(appcdn.__file__); print(appcdn.components.__file__)"
    found = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True, cwd="/").stdout.split()
    want = [str(ROOT / "appcdn" / "__init__.py"), str(ROOT / "components" / "__init__.py")]
    if [str(Path(f).resolve()) for f in found] != want:
        sys.exit(f"{PYTHON} imports {found}, not this checkout's {want}; run with PYTHONPATH={ROOT}")


def check_plan(
    argv: list[str], budget: float, expected: Counter | None = None, keep: Path | None = None
) -> tuple[Run, int | None]:
    """Run a plan once within ``budget``; fail loudly unless it exits 0 and declares exactly ``expected``
    (type → count); write its output to ``keep``. Return the run and the number of resources (None: killed at the
    budget, not checked, nothing written)."""
    run, stdout = measured(argv, budget, capture=True)
    if run.killed:
        return run, None
    if keep is not None:
        keep.write_text(stdout, encoding="utf-8")
    resources = json.loads(stdout)["resources"]
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
    return run, len(resources)


def site_config(i: int, zone: str, apex: bool) -> tuple[dict, dict]:
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
    hosts = ([zone] if apex else []) + [host] + ([f"www.{host}"] if i % 2 else [])
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
                "hosts": [*hosts[:2], media["domain"]["host"]],
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
    Site: AppHosts (app) with a DNS record per host; on live, a PurgeToken with its API token (purge only on
    the zone; on by default); S3Media with 6 children, plus versioning and lifecycle
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
        if stage == "live" and (s.get("app") or {}).get("purge_token", True):
            want.update([T_PURGE_TOKEN, T_API_TOKEN])
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


def write_project(name: str, parent: Path, zones: dict[str, dict], stage_sites: dict[str, list[dict]]) -> Path:
    """A project directory (``Pulumi.yaml`` and ``stacks/``): the live stack file declares ``zones`` and its
    sites, the test stack file its own sites."""
    project = parent / name
    (project / "stacks").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    for stage, own_sites in stage_sites.items():
        config = {
            "appcdn:stage": stage,
            **({"appcdn:zones": zones} if stage == "live" else {}),
            "appcdn:sites": own_sites,
        }
        (project / "stacks" / f"Pulumi.{stage}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return project


def enterprise_zone(name: str) -> dict:
    return {
        "id": hashlib.md5(name.encode()).hexdigest(),
        "plan": "enterprise",
        "images": {"polish": "lossless", "webp": True},
    }


def generate_project(
    sites: int, parent: Path, full: bool = True, per_zone: int = SITES_PER_ZONE
) -> tuple[Path, Counter]:
    """A project of ``sites`` sites, ``per_zone`` on each Enterprise zone (``full``: with media and certificates,
    else edge-only); return it and the resources its live stack must declare."""
    zones: dict[str, dict] = {}
    stage_sites: dict[str, list[dict]] = {"live": [], "test": []}
    for i in range(sites):
        zone = f"zone{i // per_zone}.example"
        zones.setdefault(zone, enterprise_zone(zone))
        for stage, site in zip(("live", "test"), site_config(i, zone, apex=i % per_zone == 0)):
            stage_sites[stage].append(site if full else edge_only(site))
    project = write_project(f"sites-{sites}-{per_zone}{'' if full else '-edge'}", parent, zones, stage_sites)
    return project, expected_resources("live", zones, stage_sites["live"], stage_sites["live"] + stage_sites["test"])


def prefix_rule(i: int) -> dict:
    """Rule ``i`` by path prefix: the kind of 250-rule stack issue 19 measured (bench/README.md says why)."""
    return {"path_prefixes": [f"/p{i}/"]}


def prefix_or_extension_rule(i: int) -> dict:
    """Rule ``i`` by path prefix or, every other rule, by two extensions: each overlaps every rule of the other kind."""
    return [{"path_prefixes": [f"/p{i}/"]}, {"extensions": [f"e{i}", f"x{i}"]}][i % 2]


def mixed_rule(i: int) -> dict:
    """Rule ``i``'s criteria, in turn: a prefix, two path globs, extensions, a segment, a prefix and a query."""
    return [
        {"path_prefixes": [f"/p{i}/"]},
        {"paths": [f"/g{i}/*.html", f"/*/g{i}/feed"]},
        {"extensions": [f"e{i}", f"x{i}"]},
        {"path_segments": [f"s{i}"]},
        {"path_prefixes": [f"/q{i}/"], "query_args": [f"a{i}"]},
    ][i % 5]


def generate_rules_project(
    rules: int, parent: Path, rule_match: Callable[[int], dict] = prefix_rule
) -> tuple[Path, Counter]:
    """One site with ``rules`` cache rules matching as ``rule_match`` says (a third of them bypasses, the others
    each with its own edge TTL) on an Enterprise zone; its Test stage one host. Return it and the resources its
    live stack must declare."""
    zone = "rules.example"
    site = {
        "name": "big",
        "zone": zone,
        "hosts": [f"www.{zone}"],
        "origin": "big-live.eu.aldryn.io",
        "cache": {
            "rules": [
                {"name": f"r{i}", "match": rule_match(i), "action": "bypass"}
                if i % 3 == 0
                else {
                    "name": f"r{i}",
                    "match": rule_match(i),
                    "action": "cache",
                    "responses_set_no_cookies": True,
                    "edge_ttl": {"mode": "override_origin", "default": 60 * (i + 1)},
                }
                for i in range(rules)
            ]
        },
    }
    test = {"name": "big", "zone": zone, "hosts": [f"test.{zone}"], "origin": "big-test.eu.aldryn.io"}
    zones = {zone: enterprise_zone(zone)}
    project = write_project(f"rules-{rules}-{rule_match.__name__}", parent, zones, {"live": [site], "test": [test]})
    return project, expected_resources("live", zones, [site], [site, test])


def wait_until_quiet() -> str:
    """Wait (polling) until no test or CI run is running, at most BUSY_MAX_WAIT_SECONDS; say what happened."""
    start = time.monotonic()
    while True:
        busy = busy_processes()
        waited = time.monotonic() - start
        if not busy:
            return f"no {BUSY} run at the start (waited {waited:.0f} s)"
        if waited >= BUSY_MAX_WAIT_SECONDS:
            print(f"WARNING: still busy after {waited:.0f} s; measuring anyway", file=sys.stderr)
            return f"WARNING: measurement started while {len(busy)} {BUSY} process(es) ran: " + "; ".join(
                line[:80] for line in busy[:3]
            )
        print(
            f"waiting for {len(busy)} {BUSY} process(es) to finish ({waited:.0f} s so far): {busy[0][:100]}",
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
        f"{platform.system()} {platform.release()}, load average at start {load}; bytecode written and read "
        f"(PYTHONDONTWRITEBYTECODE {'unset for the runs' if 'PYTHONDONTWRITEBYTECODE' in os.environ else 'not set'})"
    )


def run_rounds(variants: list[Variant], budget: float) -> list[str]:
    """Round r runs every variant that wants more than r repetitions and has not gone over ``budget``, in a
    fixed order. Before each timed run (outside its timing) look for test and CI runs; return a line per
    run that had company."""
    company = []
    for r in range(max(v.reps for v in variants)):
        for v in variants:
            if r < v.reps and not v.over_budget:
                busy = busy_processes()
                print(f"  round {r + 1}: {v.label} ...", end="", file=sys.stderr, flush=True)
                v.runs.append(measured(v.argv, budget)[0])
                took = f" > {budget:g} s, killed" if v.runs[-1].killed else f" {v.runs[-1].wall:.2f} s"
                print(took + (f"  ({len(busy)} busy process(es))" if busy else ""), file=sys.stderr)
                if busy:
                    company.append(f"round {r + 1}, {v.label}: {busy[0][:80]}")
    return company


def report(variants: list[Variant], floor: float, budget: float) -> None:
    """The table; a variant killed at the budget shows "> budget" and what it had used when killed."""
    header = ("variant", "runs", "median s", "min s", "CPU s", "peak MB", "plan / import", "")
    rows = [header]
    for v in variants:
        if v.over_budget:
            killed = next(r for r in v.runs if r.killed)
            rows.append(
                (
                    v.label,
                    str(len(v.runs)),
                    f"> {budget:g}",
                    "-",
                    f"> {killed.cpu:.2f}",
                    f">= {killed.peak_mb:.0f}",
                    f"> {budget / floor:.2f}",
                    f"> {budget:g} s — target missed (killed at the budget)",
                )
            )
            continue
        rows.append(
            (
                v.label,
                str(len(v.runs)),
                f"{v.median():.2f}",
                f"{min(r.wall for r in v.runs):.2f}",
                f"{v.median('cpu'):.2f}",
                f"{max(r.peak_mb for r in v.runs):.0f}",
                f"{v.median() / floor:.2f}" if v.is_plan else "-",
                "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1])] + [row[-1]]
        print("  ".join(cells).rstrip())


def verdict(
    label: str,
    value: float | None,
    limit: float,
    unit: str,
    lower_bound: bool = False,
    why: str = "a run it needs was killed at the budget",
    reached: bool = False,
) -> bool:
    """Print one target's line. ``lower_bound``: ``value`` is only what a run killed at the budget reached
    (missed if it already exceeds ``limit``, else not known, which is not met), printed ``> value``, or
    ``>= value`` when ``reached``: a peak it had reached, which the rest of the run may not have exceeded;
    None: not measured."""
    if value is None:
        print(f"target: {label} <= {limit:g}{unit}: not measured ({why}) -> MISSED")
        return False
    if lower_bound:
        known = "MISSED" if value > limit else "MISSED (not known: killed at the budget first)"
        print(f"target: {label} <= {limit:g}{unit}: {'>=' if reached else '>'} {value:.2f}{unit} -> {known}")
        return False
    met = value <= limit
    print(f"target: {label} <= {limit:g}{unit}: {value:.2f}{unit} -> {'met' if met else 'MISSED'}")
    return met


def ratio_verdict(label: str, v: Variant, floor: float, budget: float, limit: float) -> bool:
    if v.over_budget:
        return verdict(label, budget / floor, limit, " x", lower_bound=True)
    return verdict(label, v.median() / floor, limit, " x")


def sdk_share_verdict(full: Variant, sdk_floor: Variant | None, budget: float) -> bool:
    """The full sites' plan over the same resources registered through the SDKs' classes with no appcdn code:
    what of the plan is appcdn's, which issue 19's 2.0 x (about the SDKs' own floor here) meant to bound."""
    label = f"{FULL_SITES} full sites / the same resources through the SDKs' classes"
    if sdk_floor is None:
        return verdict(label, None, TARGET_FULL_OVER_SDK, " x", why="the full sites' plan was killed: no resources")
    if sdk_floor.over_budget:
        return verdict(label, None, TARGET_FULL_OVER_SDK, " x", why="the SDKs' floor was killed at the budget")
    return ratio_verdict(label, full, sdk_floor.median(), budget, TARGET_FULL_OVER_SDK)


def options() -> tuple[float, int]:
    """The budget (``--budget``, else APPCDN_BENCH_BUDGET, else DEFAULT_BUDGET_SECONDS) and ``--reps``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget",
        type=float,
        default=float(os.environ.get(BUDGET_ENV) or DEFAULT_BUDGET_SECONDS),
        help=f"wall-clock seconds per plan run before it is killed (default: ${BUDGET_ENV} or "
        f"{DEFAULT_BUDGET_SECONDS:g})",
    )
    parser.add_argument(
        "--reps", type=int, default=REPS, help=f"timed runs of each variant, after its check run (default {REPS})"
    )
    args = parser.parse_args()
    if args.budget <= 0:
        parser.error(f"--budget must be above 0 seconds, not {args.budget:g}")
    if args.reps < 1:
        parser.error(f"--reps must be at least 1, not {args.reps}")
    return args.budget, args.reps


def main() -> None:
    budget, reps = options()
    check_baseline_modules()
    check_program_location()
    quiet = wait_until_quiet()
    print(machine())
    print(quiet)
    print(f"bare import: import {', '.join(PROGRAM_SDK_MODULES)}; each module loaded (SDK submodules are lazy)")
    print(f"budget: {budget:g} s of wall time per run; a run over it is killed and its target missed")
    bare = Variant("bare import of the program's SDK modules", import_argv(*PROGRAM_SDK_MODULES), reps, is_plan=False)
    plan_import = Variant(
        "the same import as the plan does it",
        import_argv(*PROGRAM_SDK_MODULES, as_the_plan=True),
        reps,
        is_plan=False,
    )
    with tempfile.TemporaryDirectory(prefix="appcdn-bench-") as tmp:
        print("warm-up and checks, one untimed run of each variant ...", file=sys.stderr)
        if measured(bare.argv, budget)[0].killed:
            sys.exit(f"the bare import alone took over the {budget:g} s budget: nothing to compare with")

        def plan(label: str, project: Path, expected: Counter | None = None, keep: Path | None = None) -> Variant:
            print(f"  {label} ...", end="", file=sys.stderr, flush=True)
            run, count = check_plan(plan_argv(project), budget, expected, keep)
            if count is None:  # killed: a measurement (over the budget), and no time for more
                print(f" > {budget:g} s, killed; its resources not checked", file=sys.stderr)
                return Variant(f"{label} (not checked)", plan_argv(project), reps, is_plan=True, runs=[run])
            print(f" {run.wall:.2f} s, {count} resources as expected", file=sys.stderr)
            return Variant(f"{label} ({count} resources)", plan_argv(project), reps, is_plan=True)

        live = plan("live stack as shipped", ROOT)
        full_json = Path(tmp) / "full-sites.plan.json"
        full = plan(
            f"{FULL_SITES} full sites, {SITES_PER_ZONE} per zone", *generate_project(FULL_SITES, Path(tmp)), full_json
        )
        sdk_floor: Variant | None = None  # the SDKs' share of the full sites' plan; none if that plan was killed
        if full_json.exists():
            print("  the same resources through the SDKs' classes ...", end="", file=sys.stderr, flush=True)
            floor_run = measured(sdk_floor_argv(full_json), budget)[0]
            print(f" > {budget:g} s, killed" if floor_run.killed else f" {floor_run.wall:.2f} s", file=sys.stderr)
            label = f"{full.label.split(' (')[1].rstrip(')')} through the SDKs' classes, no appcdn code"
            runs = [floor_run] if floor_run.killed else []
            sdk_floor = Variant(label, sdk_floor_argv(full_json), reps, is_plan=True, runs=runs)
        one_zone = {
            n: plan(f"{n} edge-only sites on one zone", *generate_project(n, Path(tmp), full=False, per_zone=n))
            for n in ONE_ZONE_SITES
        }
        rules = plan(f"{RULES} cache rules by path prefix", *generate_rules_project(RULES, Path(tmp)))
        overlapping = [  # measured beside the targets, which issue 19 set for prefix rules
            plan(
                f"{RULES} cache rules, prefixes and extensions in turn",
                *generate_rules_project(RULES, Path(tmp), prefix_or_extension_rule),
            ),
            *(
                plan(f"{n} cache rules of five kinds in turn", *generate_rules_project(n, Path(tmp), mixed_rule))
                for n in MIXED_RULES
            ),
        ]
        variants = [bare, plan_import, live, full, *filter(None, [sdk_floor]), *one_zone.values(), rules, *overlapping]
        company = run_rounds(variants, budget)

    floor = bare.median()
    own_floor = plan_import.median()  # what every plan pays before its first site: the linear target's floor
    small, large = one_zone[ONE_ZONE_SITES[0]], one_zone[ONE_ZONE_SITES[-1]]
    print()
    report(variants, floor, budget)
    print()
    print(f"targets: wall time (median) over the bare import's {floor:.2f} s, in this run; the linear one above the")
    print(f"import as the plan does it ({own_floor:.2f} s): a plan's fixed cost, which the bare import overstates")
    linear_label = f"time above the import, {ONE_ZONE_SITES[-1]} / {ONE_ZONE_SITES[0]} sites on one zone"
    if small.over_budget:
        linear = verdict(linear_label, None, TARGET_LINEAR, " x")
    elif small.median() <= own_floor:  # the load changed between the runs: no ratio to divide by
        why = f"{small.label.split(' (')[0]} took {small.median():.2f} s, not above the import's {own_floor:.2f} s"
        linear = verdict(linear_label, None, TARGET_LINEAR, " x", why=why)
    else:
        above_small = small.median() - own_floor
        linear = verdict(
            linear_label,
            ((budget if large.over_budget else large.median()) - own_floor) / above_small,
            TARGET_LINEAR,
            " x",
            lower_bound=large.over_budget,
        )
    rules_peak = max(r.peak_mb for r in rules.runs)
    met = [
        ratio_verdict("live stack / bare import", live, floor, budget, TARGET_LIVE),
        ratio_verdict(f"{FULL_SITES} full sites / bare import", full, floor, budget, TARGET_FULL),
        sdk_share_verdict(full, sdk_floor, budget),
        ratio_verdict(f"{large.label.split(' (')[0]} / bare import", large, floor, budget, TARGET_ONE_ZONE),
        linear,
        ratio_verdict(f"{RULES} cache rules by path prefix / bare import", rules, floor, budget, TARGET_RULES),
        verdict(
            f"{RULES} cache rules by path prefix, peak memory",
            rules_peak,
            TARGET_RULES_MB,
            " MB",
            lower_bound=rules.over_budget,
            reached=True,
        ),
    ]
    if sdk_floor is not None and not full.over_budget and not sdk_floor.over_budget:
        above = full.median() - sdk_floor.median()
        print(
            f"the {FULL_SITES} full sites' resources through the SDKs' classes alone take "
            f"{sdk_floor.median() / floor:.2f} x the bare import; their plan takes {above:+.2f} s beside that "
            f"({above / full.median():+.0%}): appcdn's share, within this run's noise"
        )
    print()
    print(quiet)
    if company:
        print(
            f"WARNING: {len(company)} of {sum(len(v.runs) for v in variants)} timed runs started while "
            f"{BUSY} processes ran, e.g. " + "; ".join(company[:3])
        )
    else:
        print(f"no {BUSY} process seen before any timed run")
    print("every target met" if all(met) else f"{met.count(False)} target(s) MISSED")


if __name__ == "__main__":
    main()
