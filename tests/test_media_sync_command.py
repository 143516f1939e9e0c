"""``appcdn media sync-headers`` end to end: the stack files name the site, its rules and its store; the
environment names the endpoint (moto's S3 server, Azurite). Exit 0 all right, 1 any failure, 2 config error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from azure.storage.blob import BlobServiceClient

from tests.conftest import ROOT, appcdn, project_dir, raw_config
from tests.loopback_proxy import Throttle, loopback_proxy

ONE_YEAR = "public, max-age=31536000"
ONE_HOUR = "public, max-age=3600"


def aws_site(bucket: str | None, domain: bool = True) -> dict[str, Any]:
    media: dict[str, Any] = {"backend": "aws", "aws": {"region": "us-east-1", "bucket_name": bucket}}
    if domain:
        media["domain"] = {"host": "media.example.com"}
    return raw_config(media=media)


def azure_site(account: str = "devstoreaccount1") -> dict[str, Any]:
    return raw_config(
        media={"backend": "azure", "azure": {"account_name": account}, "domain": {"host": "media.example.com"}}
    )


@pytest.fixture
def s3(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    return boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    return name


def test_the_stack_s_bucket_is_reconciled_and_without_a_token_the_purge_is_only_listed(
    tmp_path: Path, s3: Any, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.put_object(Bucket=bucket, Key="filer_public_thumbnails/a b.jpg", Body=b"x")
    s3.put_object(Bucket=bucket, Key="documents/b.pdf", Body=b"x", CacheControl=ONE_HOUR)
    code, out, err = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        cwd=project_dir(tmp_path, live=aws_site(bucket)),
    )
    assert code == 0, err
    assert s3.head_object(Bucket=bucket, Key="filer_public_thumbnails/a b.jpg")["CacheControl"] == ONE_YEAR
    assert "scanned 2, changed 1, unchanged 1, failed 0" in out
    assert "  prefix media.example.com/filer_public_thumbnails/" in out
    assert "notice: CLOUDFLARE_API_TOKEN is not set" in out


def test_a_dry_run_shows_per_rule_counts_and_what_it_would_purge(
    tmp_path: Path, s3: Any, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.put_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg", Body=b"x")
    code, out, _ = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        "--dry-run",
        cwd=project_dir(tmp_path, live=aws_site(bucket)),
    )
    assert code == 0
    assert f"rule 0 'filer_public_thumbnails/*' (Cache-Control: {ONE_YEAR}): would change 1" in out
    assert "e.g. filer_public_thumbnails/a.jpg" in out and "would purge" in out
    assert "CacheControl" not in s3.head_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg")


def test_bucket_flag_overrides_the_stack_s_bucket(
    tmp_path: Path, s3: Any, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.put_object(Bucket=bucket, Key="x.txt", Body=b"x")
    code, _out, _ = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        "--bucket",
        bucket,
        cwd=project_dir(tmp_path, live=aws_site(None, domain=False)),
    )
    assert code == 0 and s3.head_object(Bucket=bucket, Key="x.txt")["CacheControl"] == ONE_HOUR


def test_any_failed_object_exits_1(tmp_path: Path, s3: Any, bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    s3.put_object(Bucket=bucket, Key="cold.txt", Body=b"x", StorageClass="GLACIER")
    code, out, _ = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        cwd=project_dir(tmp_path, live=aws_site(bucket)),
    )
    assert code == 1 and "failed: cold.txt" in out


def test_a_missing_bucket_is_a_config_error_exit_2(tmp_path: Path, s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        cwd=project_dir(tmp_path, live=aws_site("no-such-bucket-here")),
    )
    assert code == 2 and "NoSuchBucket" in err


def test_no_aws_credentials_is_a_config_error_exit_2(
    tmp_path: Path, s3: Any, bucket: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        cwd=project_dir(tmp_path, live=aws_site(bucket)),
    )
    assert code == 2 and "NoCredentialsError" in err


def test_workers_must_be_at_least_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        appcdn(
            capsys,
            "media",
            "sync-headers",
            "--stack",
            "live",
            "--site",
            "shop",
            "--workers",
            "0",
            cwd=project_dir(tmp_path, live=aws_site("b-1")),
        )
    assert exit_.value.code == 2 and "a whole number of at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,stack,message",
    [
        (["--site", "blog"], aws_site("b-1"), "has no site 'blog' (sites: shop)"),
        (["--site", "shop"], raw_config(), "site shop has no media on stack live"),
        (["--site", "shop"], aws_site(None), "pass --bucket NAME"),
        (["--site", "shop", "--account", "x"], aws_site("b-1"), "--account and --container are for the azure backend"),
        (["--site", "shop", "--bucket", "x"], azure_site(), "--bucket is for the aws backend"),
        (["--site", "shop"], raw_config(media={"backend": "nope"}), "sites[0].media.backend"),
    ],
)
def test_config_errors_exit_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], stack: dict[str, Any], message: str
) -> None:
    code, _, err = appcdn(
        capsys, "media", "sync-headers", "--stack", "live", *args, cwd=project_dir(tmp_path, live=stack)
    )
    assert code == 2 and message in err


@pytest.mark.parametrize(
    "text,located",
    [
        (
            "config:\n  appcdn:zones:\n    example.com: {id: 023e105f4ecef8ad9ca31a8372d0c353, plan: pro}\n"
            "  appcdn:sites:\n"
            "    - {name: shop, zone: example.com, hosts: [www.example.com],\n"
            "       media: {backend: aws, aws: {region: eu-centrl-1}}}\n",
            "stacks/Pulumi.live.yaml:6:36: sites[0].media.aws.region: 'eu-centrl-1' is not an AWS region",
        ),
        ("config:\n  appcdn:sites:\n\t- {name: shop}\n", "stacks/Pulumi.live.yaml:3:1: "),
    ],
)
def test_config_errors_are_located_as_appcdn_plan_locates_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, located: str
) -> None:
    code, _, err = appcdn(
        capsys, "media", "sync-headers", "--stack", "live", "--site", "shop", cwd=project_dir(tmp_path, live=text)
    )
    assert code == 2 and located in err and "Traceback" not in err


def test_an_unknown_stack_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "nope",
        "--site",
        "shop",
        cwd=project_dir(tmp_path, live=aws_site("b-1")),
    )
    assert code == 2 and "no stack 'nope'" in err


def test_azure_containers_are_reconciled_from_the_connection_string(
    tmp_path: Path, azurite_blob: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    container = BlobServiceClient.from_connection_string(azurite_blob).create_container(f"c{uuid.uuid4().hex[:10]}")
    container.upload_blob("filer_public_thumbnails/t.jpg", b"x")
    code, out, err = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        "--container",
        container.container_name,
        cwd=project_dir(tmp_path, live=azure_site()),
    )
    assert code == 0, err
    assert (
        container.get_blob_client("filer_public_thumbnails/t.jpg").get_blob_properties().content_settings.cache_control
        == ONE_YEAR
    )
    assert "scanned 1, changed 1" in out


def test_a_listing_that_never_succeeds_says_what_failed_and_what_to_do_and_exits_1(
    tmp_path: Path, azurite_blob: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from appcdn.media_sync import clients

    monkeypatch.setattr(clients, "MAX_BACKOFF_SECONDS", 0.05)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    container = BlobServiceClient.from_connection_string(azurite_blob).create_container(f"c{uuid.uuid4().hex[:10]}")
    container.upload_blob("filer_public/a.jpg", b"x")
    origin = azurite_blob.split("BlobEndpoint=")[1].rstrip(";").rsplit("/", 1)[0]
    busy = b"<?xml version='1.0'?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>"
    never = Throttle(count=100, status=503, body=busy, methods=("GET",), path_contains="comp=list")
    with loopback_proxy(origin, throttle=never) as (url, _):
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob.replace(origin, url))
        code, out, err = appcdn(
            capsys,
            "media",
            "sync-headers",
            "--stack",
            "live",
            "--site",
            "shop",
            "--container",
            container.container_name,
            cwd=project_dir(tmp_path, live=azure_site()),
        )
    assert code == 1 and never.answered == 10
    assert out.splitlines()[-1] == "scanned 0, changed 0, unchanged 0, failed 0"
    assert err.startswith(
        f"appcdn media sync-headers: listing devstoreaccount1/{container.container_name} failed, so the objects "
        "past that point were not reached: HttpResponseError 503 ServerBusy: The server is busy. Each request is "
        "tried up to 10 times"
    ), err
    assert "then run again" in err and "<?xml" not in err and "Traceback" not in err


def test_azure_without_credentials_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # as if azure-identity were not installed
    code, _, err = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        cwd=project_dir(tmp_path, live=azure_site("shopmedia")),
    )
    assert code == 2 and "no Azure credentials" in err


def test_a_connection_string_for_another_account_is_a_config_error(
    tmp_path: Path, azurite_blob: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob)
    code, _, err = appcdn(
        capsys,
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        "--account",
        "anotherone",
        cwd=project_dir(tmp_path, live=azure_site()),
    )
    assert code == 2 and "is for account devstoreaccount1, not anotherone" in err


def test_a_run_killed_midway_leaves_every_object_old_or_new_and_a_rerun_finishes(
    tmp_path: Path, s3: Any, bucket: str, s3_endpoint: str
) -> None:
    count = 120
    for i in range(count):
        s3.put_object(
            Bucket=bucket,
            Key=f"filer_public/{i:03}.jpg",
            Body=f"bytes {i}".encode(),
            ContentType="image/jpeg",
            Metadata={"n": str(i)},
        )
    directory = project_dir(tmp_path, live=aws_site(bucket, domain=False))
    command = [
        sys.executable,
        "-m",
        "appcdn.commands.cli",
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        "--workers",
        "2",
        "--cwd",
        str(directory),
    ]
    with loopback_proxy(s3_endpoint, delay=0.03) as (url, state):
        env = {**os.environ, "AWS_ENDPOINT_URL_S3": url, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while state.requests["PUT"] < 20 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
    done = 0
    for i in range(count):
        head = s3.head_object(Bucket=bucket, Key=f"filer_public/{i:03}.jpg")
        assert (head["ContentType"], head["Metadata"]) == ("image/jpeg", {"n": str(i)})
        assert head.get("CacheControl") in (None, ONE_HOUR)
        done += head.get("CacheControl") == ONE_HOUR
        assert s3.get_object(Bucket=bucket, Key=f"filer_public/{i:03}.jpg")["Body"].read() == f"bytes {i}".encode()
    assert 20 <= done < count  # killed mid-way
    rerun = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"scanned {count}, changed {count - done}, unchanged {done}, failed 0" in rerun.stdout


def test_ctrl_c_stops_cleanly_with_the_summary_so_far_and_exit_130(
    tmp_path: Path, s3: Any, bucket: str, s3_endpoint: str
) -> None:
    for i in range(60):
        s3.put_object(Bucket=bucket, Key=f"filer_public/{i:03}.jpg", Body=b"x")
    directory = project_dir(tmp_path, live=aws_site(bucket, domain=False))
    command = [
        sys.executable,
        "-m",
        "appcdn.commands.cli",
        "media",
        "sync-headers",
        "--stack",
        "live",
        "--site",
        "shop",
        "--workers",
        "2",
        "--cwd",
        str(directory),
    ]
    with loopback_proxy(s3_endpoint, delay=0.05) as (url, state):
        process = subprocess.Popen(
            command,
            env={**os.environ, "AWS_ENDPOINT_URL_S3": url, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while state.requests["PUT"] < 5 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted: every object is either as it was or done" in err
    assert "appcdn media purge" not in err  # the media domain is not cached: nothing to purge
    assert "scanned " in out.splitlines()[-1]
