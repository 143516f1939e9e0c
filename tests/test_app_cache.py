"""The app's own caching: the shared cache store in config, the exported app environment, the Django settings
helper, and two separate Django processes sharing one cache through Redis and through PostgreSQL."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from appcdn import defaults
from appcdn.components.cache_store import CacheStoreArgs, Cloud
from appcdn.config.app import AppConfig
from appcdn.config.fields import Stage
from appcdn.rules.app_env import app_env, fixed_cache_url
from appcdn_django.settings import AppSettingsError, caches, cms_cache_durations, configure
from tests.app_venv import app_process_env
from tests.conftest import ROOT, appcdn, declare, problems_of, project_dir, raw_config

PLACED: dict[str, Any] = {
    "subnet_ids": ["subnet-0a1b2c3d", "subnet-0123456789abcdef0"],
    "security_group_ids": ["sg-0a1b2c3d"],
}


def placed(cloud: Cloud) -> CacheStoreArgs:
    """The app cache's args on ``cloud``, placed in PLACED's subnets and security group."""
    return CacheStoreArgs(
        cloud=cloud, tags={}, subnet_ids=PLACED["subnet_ids"], security_group_ids=PLACED["security_group_ids"]
    )


def test_the_default_store_is_djangos_database_cache() -> None:
    app = AppConfig()
    assert fixed_cache_url(app.cache) == "db://appcdn_cache"


@pytest.mark.parametrize("backend", ["locmem", "file", "django.core.cache.backends.locmem.LocMemCache"])
def test_per_container_caches_are_refused_with_the_reason(backend: str) -> None:
    [problem] = problems_of(raw_config(app={"cache": {"backend": backend}}))
    assert problem.startswith(f"sites[0].app.cache.backend: {backend!r} keeps a separate cache in each container;")
    assert "several containers in parallel" in problem


def test_redis_is_managed_or_an_external_secret_url() -> None:
    assert problems_of(raw_config(app={"cache": {"backend": "redis"}})) == [
        "sites[0].app.cache.redis: give exactly one of managed (aws | azure) or url"
    ]
    assert problems_of(raw_config(app={"cache": {"backend": "redis", "redis": {"url": "rediss://:pw@h:6380/0"}}})) == [
        "sites[0].app.cache.redis.url: must be a secret (it holds a password): pulumi config set --secret --path "
        "'appcdn:sites[0].app.cache.redis.url' rediss://…"
    ]
    assert problems_of(raw_config(app={"cache": {"redis": {"managed": "aws"}}})) == [
        "sites[0].app.cache.redis: only with backend redis"
    ]


def redis(**store: Any) -> dict[str, Any]:
    return raw_config(app={"cache": {"backend": "redis", "redis": store}})


def test_a_managed_aws_cache_must_be_placed_in_the_apps_vpc() -> None:
    assert problems_of(redis(managed="aws")) == [
        "sites[0].app.cache.redis.security_group_ids: required with managed: aws: at least one security group "
        "admitting TCP 6379-6380 from the app",
        "sites[0].app.cache.redis.subnet_ids: required with managed: aws: at least 2 subnets of the app's VPC, in "
        "different availability zones",
    ]


def test_placement_ids_have_ec2_shapes_and_two_distinct_subnets_at_least() -> None:
    assert problems_of(
        redis(managed="aws", subnet_ids=["subnet-xyz", "subnet-0A1B2C3D"], security_group_ids=["sg-1"])
    ) == [
        "sites[0].app.cache.redis.security_group_ids[0]: 'sg-1' is not a security group id ('sg-' and 8 or 17 "
        "hexadecimal digits, e.g. sg-0a1b2c3d)",
        "sites[0].app.cache.redis.subnet_ids[0]: 'subnet-xyz' is not a VPC subnet id ('subnet-' and 8 or 17 "
        "hexadecimal digits, e.g. subnet-0a1b2c3d)",
        "sites[0].app.cache.redis.subnet_ids[1]: 'subnet-0A1B2C3D' is not a VPC subnet id ('subnet-' and 8 or 17 "
        "hexadecimal digits, e.g. subnet-0a1b2c3d)",
    ]
    assert problems_of(
        redis(managed="aws", subnet_ids=["subnet-0a1b2c3d", "subnet-0a1b2c3d"], security_group_ids=["sg-0a1b2c3d"])
    ) == [
        "sites[0].app.cache.redis.subnet_ids: 1 subnet given; a serverless cache needs at least 2, in different "
        "availability zones of one VPC",
        "sites[0].app.cache.redis.subnet_ids[1]: 'subnet-0a1b2c3d' is listed twice",
    ]


def test_placement_is_refused_where_it_means_nothing() -> None:
    assert problems_of(redis(managed="azure", **PLACED)) == [
        "sites[0].app.cache.redis.security_group_ids: only with managed: aws (the cache's place in your VPC)",
        "sites[0].app.cache.redis.subnet_ids: only with managed: aws (the cache's place in your VPC)",
    ]


def test_settings_of_the_other_cloud_are_refused_as_media_refuses_them() -> None:
    """They were once ignored silently (``{managed: aws, resource_group: rg}``)."""
    other = (
        "is a setting of a managed {cloud} cache, but this one is {where}: it would be ignored; remove it, or "
        "change managed"
    )
    assert problems_of(redis(managed="aws", resource_group="rg", location="westeurope", **PLACED)) == [
        "sites[0].app.cache.redis.location: " + other.format(cloud="azure", where="managed: aws"),
        "sites[0].app.cache.redis.resource_group: " + other.format(cloud="azure", where="managed: aws"),
    ]
    assert problems_of(redis(managed="azure", region="eu-west-1")) == [
        "sites[0].app.cache.redis.region: " + other.format(cloud="aws", where="managed: azure"),
    ]
    assert problems_of(
        redis(url="rediss://:pw@cache.example.com:6380/0", region="eu-west-1"),
        secret_keys=("appcdn:sites",),
    ) == ["sites[0].app.cache.redis.region: " + other.format(cloud="aws", where="an external cache (url)")]


def test_a_misplaced_cache_stops_the_plan_with_exit_2_and_where_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = (
        "config:\n"
        "  appcdn:zones:\n"
        "    example.com: {id: 023e105f4ecef8ad9ca31a8372d0c353, plan: pro}\n"
        "  appcdn:sites:\n"
        "    - name: shop\n"
        "      zone: example.com\n"
        "      hosts: [www.example.com]\n"
        "      app:\n"
        "        cache:\n"
        "          backend: redis\n"
        "          redis: {managed: aws, subnet_ids: [subnet-0a1b2c3d], security_group_ids: [sg-0a1b2c3d]}\n"
    )
    project_dir(tmp_path, live=live)
    code, _, err = appcdn(capsys, "plan", "--stack", "live", cwd=tmp_path)
    assert code == 2 and "Traceback" not in err
    assert (
        "  stacks/Pulumi.live.yaml:11:33: sites[0].app.cache.redis.subnet_ids: 1 subnet given; a serverless cache "
        "needs at least 2, in different availability zones of one VPC" in err.splitlines()
    ), err


@pytest.mark.parametrize(
    "stage,durations",
    [
        ("test", {"content": 0, "menus": 0, "permissions": 0}),
        ("live", {"content": 60, "menus": 3600, "permissions": 3600}),
    ],
)
def test_cms_cache_durations_follow_the_stage(stage: Stage, durations: dict[str, int]) -> None:
    assert json.loads(app_env(AppConfig(), stage)["CMS_CACHE_DURATIONS"]) == durations


def test_cms_cache_durations_can_be_set_per_stage() -> None:
    app = AppConfig.model_validate({"cms_cache_durations": {"content": 5, "menus": 10, "permissions": 0}})
    assert json.loads(app_env(app, "live")["CMS_CACHE_DURATIONS"]) == {"content": 5, "menus": 10, "permissions": 0}


def test_the_plan_shows_each_sites_app_environment_with_the_cache_url_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = appcdn(capsys, "plan", "--stack", "test", "--json")
    assert code == 0
    assert json.loads(out)["app_env"]["shop"] == {
        "APPCDN_APP_ENV_VERSION": "1",
        "APPCDN_READER": "django-appcdn>=0.1.0",
        "APPCDN_PURGE": "off",
        "APPCDN_CLOUDFLARE_PLAN": "pro",
        "CACHE_URL": "[secret]",
        "CLOUDFLARE_ZONE_ID": "023e105f4ecef8ad9ca31a8372d0c353",
        "CMS_CACHE_DURATIONS": '{"content": 0, "menus": 0, "permissions": 0}',
    }
    _, text, _ = appcdn(capsys, "plan", "--stack", "live")
    assert "  CACHE_URL=[secret]  CLOUDFLARE_API_TOKEN=[secret]  CLOUDFLARE_ZONE_ID=" in text


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_a_managed_redis_is_tls_only_and_its_url_a_secret(cloud: str) -> None:
    from appcdn.components.cache_store import CacheStore

    found: dict[str, CacheStore] = {}
    res = declare(lambda: found.update(store=CacheStore("shop-live-cache", placed(Cloud(cloud)))))
    if cloud == "azure":
        redis = res["shop-live-cache-redis"]
        assert redis.type == "azure-native:redis:Redis"
        assert redis.inputs["enableNonSslPort"] is False and redis.inputs["minimumTlsVersion"] == "1.2"
    else:
        cache = res["shop-live-cache-valkey"]
        assert (cache.type, cache.inputs["engine"]) == ("aws:elasticache/serverlessCache:ServerlessCache", "valkey")
        user = res["shop-live-cache-user"]
        assert user.inputs["authenticationMode"]["type"] == "password"
        assert user.inputs["authenticationMode"]["passwords"] == ["[secret]"]  # the generated password stays secret
    assert all(r.parent == "shop-live-cache" for name, r in res.items() if name != "shop-live-cache")


def test_the_aws_user_group_holds_a_disabled_default_user_and_the_app_user() -> None:
    """ElastiCache refuses a user group without a user named ``default`` (botocore's CreateUserGroup error
    ``DefaultUserRequired``); a Valkey group admits only users that authenticate, so it has a password too."""
    from appcdn.components.cache_store import CacheStore

    res = declare(lambda: CacheStore("shop-live-cache", placed(Cloud.AWS)))
    default, app = res["shop-live-cache-default"].inputs, res["shop-live-cache-user"].inputs
    assert (default["userName"], default["accessString"]) == ("default", "off -@all")
    assert default["authenticationMode"] == {"type": "password", "passwords": ["[secret]"]}
    assert res["shop-live-cache-users"].inputs["userIds"] == ["shop-live-cache-default", "shop-live-cache-app"]
    assert app["accessString"] == defaults.VALKEY_APP_ACCESS and "+@all" not in app["accessString"]


def test_the_aws_cache_is_placed_where_the_stack_says() -> None:
    from appcdn.program.stack_program import declare as declare_program
    from appcdn.program.stack_program import export
    from appcdn.rules.rulesets import compile_zones
    from tests.conftest import project_of

    project = project_of(redis(managed="aws", region="eu-west-1", **PLACED))
    cache = declare(lambda: export(declare_program(project, compile_zones(project))))["shop-live-cache-valkey"]
    assert (cache.inputs["subnetIds"], cache.inputs["securityGroupIds"], cache.inputs["region"]) == (
        PLACED["subnet_ids"],
        PLACED["security_group_ids"],
        "eu-west-1",
    )


def test_django_settings_read_the_exported_environment() -> None:
    settings: dict[str, Any] = {}
    configure(
        settings,
        {
            "APPCDN_APP_ENV_VERSION": "1",
            "CACHE_URL": "rediss://:pw@cache.example.net:6380/0",
            "CMS_CACHE_DURATIONS": '{"content": 60, "menus": 3600, "permissions": 3600}',
        },
    )
    assert settings["CACHES"] == {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "rediss://:pw@cache.example.net:6380/0",
        }
    }
    assert settings["CMS_CACHE_DURATIONS"] == {"content": 60, "menus": 3600, "permissions": 3600}
    assert caches({"CACHE_URL": "db://appcdn_cache"})["default"]["LOCATION"] == "appcdn_cache"


def test_local_development_caches_nothing() -> None:
    assert caches({})["default"]["BACKEND"] == "django.core.cache.backends.dummy.DummyCache"
    assert cms_cache_durations({}) == {"content": 0, "menus": 0, "permissions": 0}


@pytest.mark.parametrize(
    "env",
    [
        {"CACHE_URL": "locmem://"},
        {"CACHE_URL": "file:///tmp/cache"},
        {"CACHE_URL": "memcached://x"},
        {"CACHE_URL": "db://"},
        {"APPCDN_APP_ENV_VERSION": "2"},
        {"CMS_CACHE_DURATIONS": '{"content": -1}'},
    ],
)
def test_django_settings_refuse_what_is_not_safe_at_start_up(env: dict[str, str]) -> None:
    with pytest.raises(AppSettingsError):
        configure({}, env)


def test_a_stack_exporting_a_newer_contract_is_refused_with_the_release_that_reads_it() -> None:
    with pytest.raises(AppSettingsError) as refused:
        configure({}, {"APPCDN_APP_ENV_VERSION": "2", "APPCDN_READER": "django-appcdn>=0.4.0"})
    assert str(refused.value) == (
        "the stack exports app environment version 2 (read by django-appcdn>=0.4.0); this is django-appcdn 0.1.0, "
        "which reads version 1: pip install 'django-appcdn>=0.4.0'"
    )


def _django(python: Path, command: list[str], env: dict[str, str]) -> str:
    """Run one Django process of the test app, in the app's virtualenv (django-appcdn from its wheel, no
    Pulumi), configured only from ``env`` (the exported app environment)."""
    result = subprocess.run(
        [str(python), "-m", "tests.django_app.cache_roundtrip", *command],
        env=app_process_env(python, "tests.django_app.settings", env),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _app_user_url(redis_server: str, stage: Stage) -> str:
    """A Redis ACL user holding exactly the access string the AWS cache's app user is deployed with."""
    import redis as redis_py

    from appcdn.components.cache_store import CacheStore

    deployed = declare(lambda: CacheStore("c", placed(Cloud.AWS)))["c-user"]
    access = deployed.inputs["accessString"]
    admin: Any = redis_py.Redis.from_url(redis_server)
    user, password = f"app-{stage}", f"pw-{stage}"
    admin.execute_command("ACL", "SETUSER", user, "reset", f">{password}", *access.split())
    return redis_server.replace("redis://", f"redis://{user}:{password}@")


@pytest.mark.parametrize("stage", ["test", "live"])
def test_two_processes_share_one_cache_through_redis_as_the_narrow_app_user(
    app_python: Path, redis_server: str, stage: Stage
) -> None:
    env = {**app_env(AppConfig(), stage), "CACHE_URL": _app_user_url(redis_server, stage)}
    _django(app_python, ["write", f"greeting-{stage}", "hello"], env)
    assert _django(app_python, ["read", f"greeting-{stage}"], env) == '"hello"'
    # every operation of Django's cache API works as that user, and what Django never sends is refused
    exercised = json.loads(_django(app_python, ["exercise", f"ops-{stage}"], env))
    assert exercised == {"api": "ok", "refused": ["CONFIG", "KEYS"]}
    seen = json.loads(_django(app_python, ["settings"], env))
    # the app runs django-appcdn from its wheel, in a virtualenv without Pulumi
    assert Path(seen["appcdn_django"]).is_relative_to(app_python.parent.parent) and seen["pulumi"] is False
    assert seen["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert seen["CMS_CACHE_DURATIONS"] == json.loads(env["CMS_CACHE_DURATIONS"])


def test_two_processes_share_one_cache_through_the_database(app_python: Path, postgres_server: dict[str, str]) -> None:
    app = AppConfig()
    env = {
        **app_env(app, "live"),
        "CACHE_URL": fixed_cache_url(app.cache) or "",
        "TEST_DATABASE": json.dumps(postgres_server),
    }
    _django(app_python, ["createcachetable"], env)
    _django(app_python, ["write", "greeting", "hello"], env)
    assert _django(app_python, ["read", "greeting"], env) == '"hello"'
    assert (
        json.loads(_django(app_python, ["settings"], env))["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    )
