"""SiteCertificates under Pulumi's mock engine, one mode at a time, and the config → spec conversion."""

from collections.abc import Callable
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.mocks import MockMonitor

from appcdn.commands.plan.mock_engine import UNKNOWN_PLACEHOLDER, DeclaredResource, run_under_mocks
from appcdn.components.certificates import CertificateSpec, SiteCertificates, acm_validation_field
from appcdn.config.certificates import CertificateConfig
from appcdn.config.pulumi_yaml.stack_files import SECRET_PLACEHOLDER
from appcdn.program.component_args import certificate_spec

PACK = "cloudflare:index/certificatePack:CertificatePack"
CUSTOM_SSL = "cloudflare:index/customSsl:CustomSsl"
ORIGIN_CA = "cloudflare:index/originCaCertificate:OriginCaCertificate"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ACM_CERTIFICATE = "aws:acm/certificate:Certificate"
ACM_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"


def spec(name: str, mode: str, hosts: list[str], **kw: Any) -> CertificateSpec:
    """A certificate of ``mode`` with the defaults, ``kw`` replacing or adding keys (some deliberately invalid)."""
    return cast(
        CertificateSpec,
        {
            "name": name,
            "mode": mode,
            "hosts": hosts,
            "certificate_authority": "lets_encrypt",
            "validation_method": "txt",
            "validity_days": None,
            "certificate": None,
            "private_key": None,
            "region": "us-east-1",
            **kw,
        },
    )


def declare(*certificates: CertificateSpec, protect: bool = False) -> dict[str, DeclaredResource]:
    def program() -> None:
        SiteCertificates("shop", {"zone_id": "zid", "certificates": list(certificates), "protect": protect})

    return {r.name: r for r in run_under_mocks(program, "appcdn", "unit", {}, [])}


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Every register request by resource name, for the options DeclaredResource does not carry."""
    seen: dict[str, Any] = {}
    register: Callable[[MockMonitor, Any], Any] = MockMonitor.RegisterResource

    def recording(self: MockMonitor, request: Any) -> Any:
        seen[request.name] = request
        return register(self, request)

    monkeypatch.setattr(MockMonitor, "RegisterResource", recording)
    return seen


def sink(value: object) -> None:
    """A stand-in consumer, so the mock monitor shows how ``value`` would reach a resource."""
    pulumi.CustomResource("test:index:Sink", "sink", {"value": value})


def test_advanced_pack_covers_the_sorted_hosts_with_default_validity() -> None:
    res = declare(spec("edge", "advanced", ["www.example.com", "example.com"], certificate_authority="google"))
    assert res["shop"].type == "appcdn:index:SiteCertificates"
    pack = res["shop-edge"]
    assert (pack.type, pack.parent) == (PACK, "shop")
    assert pack.inputs == {
        "type": "advanced",
        "hosts": ["example.com", "www.example.com"],
        "certificateAuthority": "google",
        "validationMethod": "txt",
        "validityDays": 90,
        "zoneId": "zid",
    }


def test_advanced_pack_is_replaced_by_creating_the_new_pack_first(requests: dict[str, Any]) -> None:
    declare(spec("edge", "advanced", ["example.com"], validity_days=365, certificate_authority="ssl_com"))
    request = requests["shop-edge"]
    assert list(request.replaceOnChanges) == ["*"]
    assert request.deleteBeforeReplaceDefined and not request.deleteBeforeReplace


def test_advanced_pack_takes_the_configured_validity() -> None:
    res = declare(spec("edge", "advanced", ["example.com"], validity_days=365, certificate_authority="ssl_com"))
    assert res["shop-edge"].inputs["validityDays"] == 365


def test_uploaded_certificate_and_key_reach_the_provider_as_secrets() -> None:
    res = declare(
        spec(
            "own",
            "uploaded",
            ["www.example.com"],
            certificate=pulumi.Output.secret("CERT"),
            private_key=pulumi.Output.secret("KEY"),
        )
    )
    custom = res["shop-own"]
    assert (custom.type, custom.parent) == (CUSTOM_SSL, "shop")
    assert custom.inputs == {
        "certificate": SECRET_PLACEHOLDER,
        "privateKey": SECRET_PLACEHOLDER,
        "bundleMethod": "ubiquitous",
        "type": "legacy_custom",
        "zoneId": "zid",
    }


def test_origin_ca_certificate_is_issued_for_a_key_made_here() -> None:
    res = declare(spec("origin", "origin_ca", ["www.example.com", "example.com"]))
    key, csr, origin = res["shop-origin-key"], res["shop-origin-csr"], res["shop-origin"]
    assert (key.type, key.inputs) == ("tls:index/privateKey:PrivateKey", {"algorithm": "ECDSA", "ecdsaCurve": "P256"})
    assert csr.type == "tls:index/certRequest:CertRequest"
    assert csr.inputs == {
        "dnsNames": ["example.com", "www.example.com"],
        "subject": {"commonName": "example.com"},
        "privateKeyPem": SECRET_PLACEHOLDER,
    }
    assert origin.type == ORIGIN_CA
    assert origin.inputs == {
        "hostnames": ["example.com", "www.example.com"],
        "requestType": "origin-ecc",
        "requestedValidity": 5475,
        "csr": UNKNOWN_PLACEHOLDER,
    }
    assert {key.parent, csr.parent, origin.parent} == {"shop"}


def test_origin_ca_takes_the_configured_validity() -> None:
    res = declare(spec("origin", "origin_ca", ["www.example.com"], validity_days=365))
    assert res["shop-origin"].inputs["requestedValidity"] == 365


def test_origin_certificates_output_is_secret() -> None:
    def program() -> None:
        certs = SiteCertificates(
            "shop", {"zone_id": "zid", "certificates": [spec("origin", "origin_ca", ["www.example.com"])]}
        )
        sink(certs.origin_certificates)

    declared = {r.name: r for r in run_under_mocks(program, "appcdn", "unit", {}, [])}
    assert declared["sink"].inputs == {"value": SECRET_PLACEHOLDER}


def test_acm_certificate_is_validated_by_one_unproxied_record_per_host() -> None:
    res = declare(spec("cdn", "acm", ["media.example.com", "cdn.example.com", "img.example.com"], region="us-east-1"))
    certificate = res["shop-cdn"]
    assert certificate.type == ACM_CERTIFICATE
    assert certificate.inputs == {
        "domainName": "cdn.example.com",
        "validationMethod": "DNS",
        "region": "us-east-1",
        "subjectAlternativeNames": ["img.example.com", "media.example.com"],
    }

    records = [r for r in res.values() if r.type == DNS_RECORD]
    assert sorted(r.name for r in records) == [
        f"shop-cdn-{h}-validation" for h in ("cdn.example.com", "img.example.com", "media.example.com")
    ]
    for record in records:
        assert record.parent == "shop"
        # name and content come from ACM once the certificate exists: unknown in a preview
        assert record.inputs | {"comment": None} == {
            "zoneId": "zid",
            "type": "CNAME",
            "proxied": False,
            "ttl": 60,
            "comment": None,
            "name": UNKNOWN_PLACEHOLDER,
            "content": UNKNOWN_PLACEHOLDER,
        }

    validation = res["shop-cdn-validation"]
    assert (validation.type, validation.parent) == (ACM_VALIDATION, "shop")
    assert validation.inputs["validationRecordFqdns"] == [UNKNOWN_PLACEHOLDER] * 3
    assert validation.inputs["region"] == "us-east-1"


def test_acm_follows_the_configured_region_and_one_host_needs_no_alternative_names() -> None:
    res = declare(spec("alb", "acm", ["www.example.com"], region="eu-central-1"))
    assert res["shop-alb"].inputs == {
        "domainName": "www.example.com",
        "validationMethod": "DNS",
        "region": "eu-central-1",
    }


def test_acm_validation_field_picks_the_host_and_drops_the_trailing_dot() -> None:
    options = [
        aws.acm.outputs.CertificateDomainValidationOption(
            domain_name=h, resource_record_name=f"_x.{h}.", resource_record_value=f"_y.{h}.acm."
        )
        for h in ("example.com", "www.example.com")
    ]
    assert acm_validation_field(options, "www.example.com", "resource_record_name") == "_x.www.example.com"
    assert acm_validation_field(options, "www.example.com", "resource_record_value") == "_y.www.example.com.acm"
    assert acm_validation_field(options, "other.example.com", "resource_record_name") is None
    assert acm_validation_field(None, "www.example.com", "resource_record_name") is None


def all_modes() -> list[CertificateSpec]:
    return [
        spec("edge", "advanced", ["example.com"]),
        spec(
            "own",
            "uploaded",
            ["a.example.com"],
            certificate=pulumi.Output.secret("C"),
            private_key=pulumi.Output.secret("K"),
        ),
        spec("origin", "origin_ca", ["www.example.com"]),
        spec("cdn", "acm", ["media.example.com"]),
    ]


def test_protect_reaches_every_child() -> None:
    res = declare(*all_modes(), protect=True)
    children = [r for r in res.values() if r.name != "shop"]
    assert len(children) == 8  # 1 pack, 1 upload, key + CSR + Origin CA, ACM + record + validation
    assert all(r.protect for r in children), [r.name for r in children if not r.protect]


def test_children_are_unprotected_by_default() -> None:
    res = declare(*all_modes())
    assert not [r.name for r in res.values() if r.protect]


def test_certificate_spec_unwraps_secrets_into_secret_outputs() -> None:
    cert = CertificateConfig.model_validate(
        {
            "name": "own",
            "mode": "uploaded",
            "hosts": ["www.example.com"],
            "certificate": "CERT-PEM",
            "private_key": "KEY-PEM",
        }
    )
    values: list[str] = []

    def program() -> None:
        converted = certificate_spec(cert)
        assert {k: v for k, v in converted.items() if k not in ("certificate", "private_key")} == {
            "name": "own",
            "mode": "uploaded",
            "hosts": ["www.example.com"],
            "certificate_authority": "lets_encrypt",
            "validation_method": "txt",
            "validity_days": None,
            "region": "us-east-1",
        }
        pulumi.Output.all(converted["certificate"], converted["private_key"]).apply(values.extend)
        sink([converted["certificate"], converted["private_key"]])

    declared = {r.name: r for r in run_under_mocks(program, "appcdn", "unit", {}, [])}
    assert values == ["CERT-PEM", "KEY-PEM"]
    assert declared["sink"].inputs == {"value": [SECRET_PLACEHOLDER, SECRET_PLACEHOLDER]}


def test_certificate_spec_leaves_absent_secrets_empty() -> None:
    converted = certificate_spec(
        CertificateConfig(
            name="edge", mode="advanced", hosts=["example.com"], validity_days=30, certificate_authority="google"
        )
    )
    assert converted["certificate"] is None and converted["private_key"] is None
    assert (converted["validity_days"], converted["certificate_authority"]) == (30, "google")
