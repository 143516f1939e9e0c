"""Both shipped stacks through the real program and the ``appcdn`` command."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from appcdn.offline import SECRET_PLACEHOLDER, read_stack_files, run_program

ROOT = Path(__file__).resolve().parent.parent


def appcdn(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "appcdn.cli", *args, "--cwd", str(cwd)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def live():
    return {r.name: r for r in run_program(ROOT, read_stack_files(ROOT, "live"))}


@pytest.fixture(scope="module")
def test_stack():
    return {r.name: r for r in run_program(ROOT, read_stack_files(ROOT, "test"))}


def test_live_owns_the_zone_settings_with_secure_baseline(live):
    settings = {r.inputs["settingId"]: r.inputs["value"] for r in live.values()
                if r.type == "cloudflare:index/zoneSetting:ZoneSetting"}
    assert settings == {"ssl": "strict", "min_tls_version": "1.2", "tls_1_3": "on", "always_use_https": "on",
                        "automatic_https_rewrites": "on", "http3": "on", "polish": "lossless", "webp": "on"}


def test_live_composes_the_test_hosts_rules_on_the_shared_zone(live):
    rules = live["example-com-cache-rules"].inputs["rules"]
    assert rules[0]["ref"] == "shop-test-app"
    # Test's app hosts bypass; the uncached media domain files.example.com shares the rule (same settings).
    assert rules[0]["expression"] == 'http.host in {"blog-test.example.com" "files.example.com" "test.example.com"}'
    assert rules[0]["actionParameters"] == {"cache": False}
    assert len(rules) <= 25  # pro


def test_test_stack_only_adds_its_host_names_and_its_own_media(test_stack):
    cloudflare_types = {r.type for r in test_stack.values() if r.type.startswith("cloudflare:")}
    assert cloudflare_types == {"cloudflare:index/dnsRecord:DnsRecord"}
    names = sorted(r.inputs["name"] for r in test_stack.values() if "dnsRecord" in r.type)
    assert names == ["blog-test.example.com", "media-test.example.com", "test.example.com"]
    assert {"appcdn:index:S3Media", "appcdn:index:AzureMedia"} <= {r.type for r in test_stack.values()}


def test_one_owner_per_zone_phase_across_the_shipped_stacks(live, test_stack):
    phases = [(r.inputs["zoneId"], r.inputs["phase"]) for stack in (live, test_stack) for r in stack.values()
              if r.type == "cloudflare:index/ruleset:Ruleset"]
    assert len(phases) == len(set(phases)) == 2


def test_secure_config_is_never_decrypted():
    files = read_stack_files(ROOT, "live")
    assert files.config["cloudflare:apiToken"] == SECRET_PLACEHOLDER
    assert files.secret_keys == ["cloudflare:apiToken"]


def test_plan_prints_the_tree_and_the_behaviour_table():
    result = appcdn("plan", "--stack", "live")
    assert result.returncode == 0, result.stderr
    assert "appcdn:index:Zone  example-com" in result.stdout
    assert "cloudflare:index/ruleset:Ruleset  example-com-cache-rules" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "/static/*" in line and "shop" in line)
    assert row.split()[-4:] == ["cached", "365d", "origin", "lossless"]
    assert "v1:" not in result.stdout


def test_plan_json_shape_and_byte_identical_runs():
    first, second = appcdn("plan", "--stack", "live", "--json"), appcdn("plan", "--stack", "live", "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    plan = json.loads(first.stdout)
    assert plan["stack"] == "live"
    for resource in plan["resources"]:
        assert set(resource) >= {"type", "name", "parent", "protect", "inputs"}
    assert {"site", "stage", "hosts", "requests", "cache", "edge_ttl", "browser_ttl", "polish"} == set(
        plan["cache_behaviour"][0])
    assert "v1:" not in first.stdout


def test_plan_of_the_test_stack_says_who_owns_the_edge_rules():
    result = appcdn("plan", "--stack", "test")
    assert result.returncode == 0, result.stderr
    assert "edge rules owned by the live stack" in result.stdout


def test_invalid_config_exits_2_with_every_reason_and_no_traceback(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "stacks" / "Pulumi.live.yaml").write_text(
        "config:\n"
        "  appcdn:zones:\n"
        "    example.com: {id: z, plan: free, images: {polish: lossy, mirage: true}}\n"
        "  appcdn:sites:\n"
        "    - {name: shop, zone: example.com, hosts: [www.example.org], colour: blue}\n")
    result = appcdn("plan", "--stack", "live", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "sites[0].colour: unknown key" in result.stderr
    (tmp_path / "stacks" / "Pulumi.live.yaml").write_text(
        (tmp_path / "stacks" / "Pulumi.live.yaml").read_text().replace(", colour: blue", ""))
    result = appcdn("plan", "--stack", "live", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[1:] == [
        "  sites[0].hosts: 'www.example.org' is outside the site's zone example.com",
        "  zones.example.com.images.mirage: Mirage was retired by Cloudflare (deprecated November 2025, "
        "API end of life January 2026); use polish, or image transformations with loading=\"lazy\" and srcset",
        "  zones.example.com.images.polish: Polish needs the pro plan or above; the zone is on free",
    ]


def test_the_program_itself_refuses_invalid_config_without_a_traceback():
    """What ``pulumi preview`` runs: a config error ends the program with pulumi.RunError (no stack trace)."""
    import pulumi

    files = read_stack_files(ROOT, "live")
    files.config["appcdn:stage"] = "prod"
    with pytest.raises(pulumi.RunError, match=r"stage: 'prod' is not allowed"):
        run_program(ROOT, files)


def test_unknown_stack_exits_2():
    result = appcdn("plan", "--stack", "prod")
    assert result.returncode == 2
    assert "no stack 'prod'" in result.stderr and "live, test" in result.stderr
