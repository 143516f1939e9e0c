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


def project_with_live_stack(directory: Path, stack_yaml: str) -> Path:
    """A copy of the project in ``directory`` whose live stack file is ``stack_yaml``."""
    (directory / "stacks").mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (directory / name).write_text((ROOT / name).read_text())
    (directory / "stacks" / "Pulumi.live.yaml").write_text(stack_yaml)
    return directory


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


def test_plan_of_the_test_stack_shows_the_rules_live_deploys_for_it():
    result = appcdn("plan", "--stack", "test")
    assert result.returncode == 0, result.stderr
    assert "zone example.com: edge rules owned by the live stack (its rules as compiled from its stack file)" \
        in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if line.split()[:2] == ["shop", "test"]]
    assert ["shop", "test", "test.example.com", "any", "path", "bypassed", "-", "-", "lossless"] in rows
    assert ["shop", "test", "media-test.example.com", "/*", "cached", "1h", "1h", "lossless"] in rows
    assert result.stderr == ""


def test_plan_warns_when_the_owner_composes_other_hosts(tmp_path):
    project = project_with_live_stack(tmp_path, (ROOT / "stacks" / "Pulumi.live.yaml").read_text())
    (project / "stacks" / "Pulumi.test.yaml").write_text(
        (ROOT / "stacks" / "Pulumi.test.yaml").read_text().replace("hosts: [test.example.com]",
                                                                   "hosts: [preview.example.com]"))
    result = appcdn("plan", "--stack", "test", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "warning: site shop: the live stack composes edge rules for test hosts ['test.example.com'], this " \
           "stack serves ['preview.example.com']" in result.stderr


def test_invalid_config_exits_2_with_every_reason_and_no_traceback(tmp_path):
    project_with_live_stack(
        tmp_path,
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


# --- security invariants over both shipped stacks -------------------------------------------------------

STACKS = ("live", "test")


@pytest.fixture(scope="module")
def both(live, test_stack):
    return {"live": live, "test": test_stack}


def test_no_bucket_policy_allows_public_write_or_list(both):
    for stack in both.values():
        for r in stack.values():
            if r.type != "aws:s3/bucketPolicy:BucketPolicy":
                continue
            for statement in json.loads(r.inputs["policy"])["Statement"]:
                if statement["Effect"] == "Allow":
                    assert statement["Action"] == "s3:GetObject"
                    assert all(res.endswith(("filer_public/*", "filer_public_thumbnails/*"))
                               for res in statement["Resource"])


def test_every_bucket_is_tls_only(both):
    buckets = [r for s in both.values() for r in s.values() if r.type == "aws:s3/bucket:Bucket"]
    policies = [json.loads(r.inputs["policy"]) for s in both.values() for r in s.values()
                if r.type == "aws:s3/bucketPolicy:BucketPolicy"]
    assert len(buckets) == len(policies) == 2
    for policy in policies:
        assert {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.items() <= \
            policy["Statement"][0].items()


def test_azure_accounts_are_https_only_tls12_and_private_containers_private(both):
    accounts = [r for s in both.values() for r in s.values() if r.type == "azure-native:storage:StorageAccount"]
    assert len(accounts) == 2
    for account in accounts:
        assert account.inputs["enableHttpsTrafficOnly"] is True
        assert account.inputs["minimumTlsVersion"] == "TLS1_2"
    for s in both.values():
        for r in s.values():
            if r.type == "azure-native:storage:BlobContainer":
                expected = {"public": "Blob", "private": "None"}[r.inputs["containerName"]]
                assert r.inputs["publicAccess"] == expected


MEDIA_DATA = ("aws:s3/bucket:Bucket", "azure-native:storage:StorageAccount", "azure-native:storage:BlobContainer",
              "azure-native:resources:ResourceGroup")


def test_live_media_survives_destroy_and_test_media_does_not_pretend_to(both):
    live_data = [r for r in both["live"].values() if r.type in MEDIA_DATA]
    assert len(live_data) == 5
    assert all(r.protect and r.retain_on_delete for r in live_data)
    assert not any(r.protect for r in both["test"].values() if r.type in MEDIA_DATA)


def test_media_domains_route_through_cloud_connector_on_the_owner(live):
    rules = live["example-com-cloud-connector"].inputs["rules"]
    assert [(r["cloudConnectorRulesProvider"], r["expression"], r["parameters"]["host"]) for r in rules] == [
        ("aws_s3", 'http.host eq "media-test.example.com"', "example-shop-test-media.s3.eu-central-1.amazonaws.com"),
        ("aws_s3", 'http.host eq "media.example.com"', "shop-live-media-bucket.s3.eu-central-1.amazonaws.com"),
        ("azure_storage", 'http.host eq "files.example.com"', "exampleblogmedia.blob.core.windows.net"),
    ]


def test_uncached_media_domain_is_stated_in_the_plan():
    result = appcdn("plan", "--stack", "live")
    rows = [line.split() for line in result.stdout.splitlines() if line.split()[:1] == ["blog"] and
            "files.example.com" in line]
    assert rows and all("bypassed" in row for row in rows)


def test_uploaded_certificate_and_key_never_appear_in_the_plan(tmp_path):
    project_with_live_stack(
        tmp_path,
        "config:\n"
        "  appcdn:zones:\n"
        "    example.com: {id: z, plan: business}\n"
        "  appcdn:sites:\n"
        "    - name: shop\n"
        "      zone: example.com\n"
        "      hosts: [www.example.com]\n"
        "      certificates:\n"
        "        - name: own\n"
        "          mode: uploaded\n"
        "          hosts: [www.example.com]\n"
        "          certificate: {secure: v1:CIPHERTEXTCERT}\n"
        "          private_key: {secure: v1:CIPHERTEXTKEY}\n")
    result = appcdn("plan", "--stack", "live", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [custom] = [r for r in json.loads(result.stdout)["resources"] if r["type"] == "cloudflare:index/customSsl:CustomSsl"]
    assert custom["inputs"]["certificate"] == custom["inputs"]["privateKey"] == "[secret]"
    assert "CIPHERTEXT" not in result.stdout + result.stderr


def test_media_on_the_provider_endpoint_gets_no_dns_record_and_no_connector_rule(live, test_stack):
    """blog's Test media has no custom domain: the app links to <account>.blob.core.windows.net directly."""
    assert not [r for r in test_stack.values() if r.type.endswith("DnsRecord") and "blog-test-media" in r.name]
    descriptions = [rule["description"] for rule in live["example-com-cloud-connector"].inputs["rules"]]
    assert "appcdn: blog/test/media" not in descriptions
