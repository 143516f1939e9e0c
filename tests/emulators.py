"""Real storage protocol servers on loopback for the emulator-backed tests, one per test session.

- ``s3_endpoint``: moto's S3 server (``python -m moto.server``), real HTTP; yields its endpoint URL.
- ``azurite_blob``: Microsoft's Azurite blob server (npm package ``azurite``, installed by ``make test``);
  yields a connection string for Azurite's well-known development account ``devstoreaccount1``.
- ``redis_server``, ``postgres_server``: Debian's redis-server and PostgreSQL (installed by ``.ci/run``).

Each server runs on a free port of 127.0.0.1, with its log in a temporary folder (shown if it fails to start),
and is stopped when the session ends. Azurite runs with telemetry off, so the tests send nothing off this machine.
``tests/conftest.py`` registers this module as a plugin, so tests ask for these fixtures by name.

Buckets and containers are set up as the components declare them: ``declared_media`` runs S3Media or
AzureMedia under the mock engine for a stack's media, ``create_declared_bucket`` and
``create_declared_containers`` apply the declared ownership, public access, CORS and container access.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, CorsRule

from appcdn.commands.plan.mock_engine import DeclaredResource, run_under_mocks
from appcdn.components.azure_media import AzureMedia
from appcdn.components.s3_media import S3Media
from appcdn.config.project import parse_stack_config
from appcdn.program.component_args import azure_media_args, s3_media_args

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AZURITE_BLOB = PROJECT_ROOT / "node_modules" / ".bin" / "azurite-blob"
STARTUP_SECONDS = 30

# Azurite's documented development account; the key is public and works only against the emulator.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# moto_server otherwise wraps every answer in flask-cors, which echoes any Origin: S3's own CORS rules would
# be invisible. With it off, the Access-Control-* headers are the ones moto derives from the bucket's CORS.
MOTO_ENV = {"MOTO_DISABLE_GLOBAL_CORS": "true"}
# Coverage's subprocess patch (pyproject.toml) starts a measuring coverage in every Python child through these
# variables. moto's server runs none of our code, only answers every S3 request of the session: not traced.
UNMEASURED = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    """Whether an HTTP server answers at ``url``, whatever the status."""
    try:
        _direct.open(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _listens(port: int) -> bool:
    """Whether a TCP server accepts connections on loopback ``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def _serve(
    name: str,
    command: list[str],
    probe_url: str,
    log: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
    measured: bool = True,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` (as ``user``, if given; measured by coverage's subprocess patch unless not ``measured``),
    wait until ``probe_url`` answers (``tcp://127.0.0.1:PORT``: accepts connections), yield the process, stop it on
    leaving."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=log.parent,
            env={k: v for k, v in {**os.environ, **(env or {})}.items() if measured or k not in UNMEASURED},
            user=user,
        )
    probe: Callable[[], bool] = (
        (lambda: _listens(int(probe_url.rsplit(":", 1)[1])))
        if probe_url.startswith("tcp://")
        else (lambda: _answers(probe_url))
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not probe():
            if process.poll() is not None:
                pytest.fail(
                    f"{name} exited with code {process.returncode} before answering; its log:\n{_log_tail(log)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{name} did not answer at {probe_url} within {STARTUP_SECONDS} s; its log:\n{_log_tail(log)}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield process
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a moto S3 server on loopback (any access key works; path-style addressing)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _serve("moto_server", command, f"{url}/moto-api/", log, env=MOTO_ENV, measured=False):
        yield url


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The standard AWS environment pointed at moto (what the command, the deploy and the Lambda read); the
    endpoint URL."""
    for name, value in {
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    return s3_endpoint


@pytest.fixture(scope="session")
def azurite_blob(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A connection string for Azurite's development account on a blob server on loopback."""
    if not AZURITE_BLOB.exists():
        pytest.fail(
            f"Azurite is not installed ({AZURITE_BLOB.relative_to(PROJECT_ROOT)} is missing): run "
            f"`make test`, which installs it from package.json with npm ci",
            pytrace=False,
        )
    port = free_port()
    blob_endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    data = tmp_path_factory.mktemp("azurite")
    command = [
        str(AZURITE_BLOB),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(data),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
    ]
    connection_string = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={blob_endpoint};"
    )
    with _serve("azurite-blob", command, blob_endpoint, data / "azurite.log"):
        yield connection_string


def _debian_binary(name: str) -> str:
    """A server binary from Debian's packages (``.ci/run`` installs redis-server and postgresql)."""
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if not found:
        pytest.fail(
            f"{name} is not installed: .ci/run installs it (apt-get install redis-server postgresql)", pytrace=False
        )
    return str(found)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis server (Debian's redis-server) on loopback, persisting nothing."""
    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    command = [
        _debian_binary("redis-server"),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(data),
    ]
    with _serve("redis-server", command, f"tcp://127.0.0.1:{port}", data / "redis.log"):
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A PostgreSQL server (Debian's postgresql) on loopback with a database ``app``: Django connection settings.
    PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` system user."""
    user = "postgres" if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory(prefix="appcdn-postgres-") as directory:  # pytest's own is private to root
        data = Path(directory)
        os.chmod(data, 0o777)
        yield from _postgres(data, user)


def _postgres(data: Path, user: str | None) -> Iterator[dict[str, str]]:
    cluster = data / "cluster"
    subprocess.run(
        [_debian_binary("initdb"), "-D", str(cluster), "-U", "app", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        user=user,
        cwd=data,
    )
    port = free_port()
    command = [
        _debian_binary("postgres"),
        "-D",
        str(cluster),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-k",
        str(data),
        "-c",
        "fsync=off",
    ]
    with _serve("postgres", command, f"tcp://127.0.0.1:{port}", data / "postgres.log", user=user):
        subprocess.run(
            [_debian_binary("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "app", "app"],
            check=True,
            capture_output=True,
        )
        yield {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "app",
            "USER": "app",
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }


# --- storage as the components declare it ---------------------------------------------------------------------
# The real-server tests set up buckets and containers from what S3Media and AzureMedia declare for a stack's media
# (the component run under the mock engine), so a change in a component reaches them.

S3_BUCKET = "aws:s3/bucket:Bucket"
S3_OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
S3_PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
AZURE_CONTAINER = "azure-native:storage:BlobContainer"
AZURE_BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"


def declared_media(media: dict[str, Any], hosts: Sequence[str] = ("www.example.com",)) -> list[DeclaredResource]:
    """What the program declares for a Live site's ``media`` (the stack config → the component's args → S3Media
    or AzureMedia under the mock engine)."""
    config = parse_stack_config(
        {
            "stage": "live",
            "zones": {"example.com": {"id": "023e105f4ecef8ad9ca31a8372d0c353", "plan": "pro"}},
            "sites": [{"name": "shop", "zone": "example.com", "hosts": list(hosts), "media": media}],
        },
        "live",
    )
    site = config.sites[0]
    assert site.media is not None

    def program() -> None:
        if site.media is not None and site.media.backend == "aws":
            S3Media("shop-media", s3_media_args(site, site.media, "live"))
        elif site.media is not None:
            AzureMedia("shop-media", azure_media_args(site, site.media, "live"))

    return run_under_mocks(program, "appcdn", "live", {}, [])


def boto_shape(value: Any) -> Any:
    """Pulumi's wire form of an AWS input (camelCase keys, numbers as floats) in boto3's (PascalCase, ints)."""
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: boto_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [boto_shape(item) for item in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def one(declared: Sequence[DeclaredResource], type_: str) -> dict[str, Any]:
    """The inputs of the one resource of ``type_``."""
    [found] = [r.inputs for r in declared if r.type == type_]
    return found


def create_declared_bucket(s3: Any, declared: Sequence[DeclaredResource]) -> str:
    """The declared bucket on moto, with its declared ownership controls, public access block and CORS rules
    (the bucket policy is the caller's: it may refuse the uploads that follow); its name."""
    bucket: str = one(declared, S3_BUCKET)["bucket"]
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [boto_shape(one(declared, S3_OWNERSHIP)["rule"])]}
    )
    block = {k: v for k, v in one(declared, S3_PUBLIC_ACCESS).items() if k not in ("bucket", "region")}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=boto_shape(block))
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": boto_shape(one(declared, S3_CORS)["corsRules"])})
    return bucket


def declared_policy(declared: Sequence[DeclaredResource]) -> dict[str, Any]:
    """The declared bucket policy, as a document."""
    policy: dict[str, Any] = json.loads(one(declared, S3_POLICY)["policy"])
    return policy


def create_declared_containers(service: BlobServiceClient, declared: Sequence[DeclaredResource]) -> dict[str, str]:
    """The declared containers on Azurite with their declared public access, and the declared CORS rules on the
    blob service; each container's public access by name."""
    access = {}
    for inputs in (r.inputs for r in declared if r.type == AZURE_CONTAINER):
        name, level = inputs["containerName"], inputs["publicAccess"]
        access[name] = level
        if not service.get_container_client(name).exists():
            service.create_container(name, public_access=None if level == "None" else level.lower())
    service.set_service_properties(
        cors=[
            CorsRule(
                rule["allowedOrigins"],
                rule["allowedMethods"],
                allowed_headers=rule["allowedHeaders"],
                exposed_headers=rule["exposedHeaders"],
                max_age_in_seconds=int(rule["maxAgeInSeconds"]),
            )
            for rule in one(declared, AZURE_BLOB_SERVICE)["cors"]["corsRules"]
        ]
    )
    return access
