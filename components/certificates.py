"""``SiteCertificates``: a site's edge and origin certificates, one per configured entry, by mode.

- ``advanced``: a Cloudflare Advanced Certificate Manager pack, issued and renewed by Cloudflare.
- ``uploaded``: a custom certificate and key the caller supplies (``CustomSsl``, Business and above).
- ``origin_ca``: a key made here and a Cloudflare Origin CA certificate for it, for the app's origin
  (SSL mode strict); both are exported so the app can install them.
- ``acm``: an AWS ACM certificate (e.g. for CloudFront) validated by DNS records in the Cloudflare zone.

Host lists are sorted wherever they reach a provider, so reordering them in config changes nothing.
"""

from collections.abc import Sequence
from enum import Enum
from functools import partial
from typing import Any, Literal, NotRequired, TypedDict, cast

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_tls as tls

from appcdn import defaults, resource_names


class CertificateMode(str, Enum):
    """Which kind of certificate (see the module's docstring)."""

    ADVANCED = "advanced"
    UPLOADED = "uploaded"
    ORIGIN_CA = "origin_ca"
    ACM = "acm"


class CertificateAuthority(str, Enum):
    """Who issues an advanced certificate pack."""

    GOOGLE = "google"
    LETS_ENCRYPT = "lets_encrypt"
    SSL_COM = "ssl_com"


class ValidationMethod(str, Enum):
    """How the authority validates an advanced pack's hosts."""

    TXT = "txt"
    HTTP = "http"
    EMAIL = "email"


class CertificateSpec(TypedDict):
    """One certificate, as ``appcdn.config.certificates.CertificateConfig`` in plain values."""

    name: str
    """Unique within the site; part of every child's name."""
    mode: CertificateMode
    """Which kind of certificate (see the module's docstring)."""
    hosts: Sequence[str]
    """Host names the certificate covers."""
    certificate_authority: CertificateAuthority
    """advanced: the issuing authority."""
    validation_method: ValidationMethod
    """advanced: how the authority validates the hosts."""
    validity_days: int | None
    """advanced: 14/30/90/365 (default 90); origin_ca: 7..5475 (default 5475); others: unused."""
    certificate: pulumi.Input[str] | None
    """uploaded: PEM certificate (and chain), already a secret Output."""
    private_key: pulumi.Input[str] | None
    """uploaded: PEM private key, already a secret Output."""
    region: str
    """acm: AWS region of the certificate (us-east-1 for CloudFront)."""


class SiteCertificatesArgs(TypedDict):
    zone_id: pulumi.Input[str]
    """Zone of the certificates' hosts; ACM validation records are written there too."""
    certificates: Sequence[CertificateSpec]
    """The site's certificates; hosts without one keep Universal SSL."""
    protect: NotRequired[bool]
    """Protect every child from ``destroy`` and retain it if it is ever deleted. Default: false."""


ValidationField = Literal["resource_record_name", "resource_record_value"]


def acm_validation_field(
    options: Sequence[aws.acm.outputs.CertificateDomainValidationOption] | None, host: str, field: ValidationField
) -> str | None:
    """``field`` of the ACM validation option for ``host``, without the trailing dot.

    Cloudflare stores DNS names without the final dot and would report a diff on every preview.
    None while the certificate's options are not known (e.g. under the mock engine).
    """
    for option in options or ():
        if option.domain_name == host:
            value = option.resource_record_name if field == "resource_record_name" else option.resource_record_value
            return None if value is None else value.removesuffix(".")
    return None


class SiteCertificates(pulumi.ComponentResource):
    """Declares each certificate of a site with the resources its mode needs."""

    origin_certificates: pulumi.Output[dict[str, dict[str, str]]]
    """origin_ca: certificate name → ``{"certificate": PEM, "private_key": PEM}``; secret."""
    acm_certificate_arns: pulumi.Output[dict[str, str]]
    """acm: certificate name → ARN, known once the certificate is validated."""

    def __init__(self, name: str, args: SiteCertificatesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(resource_names.SITE_CERTIFICATES_TYPE, name, {}, opts)
        self._zone_id = args["zone_id"]
        self._protect = args.get("protect", False)
        origin: dict[str, dict[str, pulumi.Output[str]]] = {}
        acm: dict[str, pulumi.Output[str]] = {}
        for cert in args["certificates"]:
            prefix = resource_names.certificate(name, cert["name"])
            hosts = sorted(cert["hosts"])
            if cert["mode"] == CertificateMode.ADVANCED:
                self._advanced(prefix, hosts, cert)
            elif cert["mode"] == CertificateMode.UPLOADED:
                self._uploaded(prefix, cert)
            elif cert["mode"] == CertificateMode.ORIGIN_CA:
                origin[cert["name"]] = self._origin_ca(prefix, hosts, cert)
            else:
                acm[cert["name"]] = self._acm(prefix, hosts, cert)
        # Both unwrap the nested Outputs at run time, which their static types cannot express.
        self.origin_certificates = cast(pulumi.Output[dict[str, dict[str, str]]], pulumi.Output.secret(origin))
        self.acm_certificate_arns = cast(pulumi.Output[dict[str, str]], pulumi.Output.from_input(acm))
        self.register_outputs(
            {"origin_certificates": self.origin_certificates, "acm_certificate_arns": self.acm_certificate_arns}
        )

    def _child(self, **kw: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, protect=self._protect, retain_on_delete=self._protect, **kw)

    def _advanced(self, prefix: str, hosts: list[str], cert: CertificateSpec) -> None:
        # A pack cannot be updated in place: any change replaces it, and the new pack is created
        # before the old one is deleted, so the hosts are never left without an edge certificate.
        cloudflare.CertificatePack(
            prefix,
            zone_id=self._zone_id,
            type="advanced",
            hosts=hosts,
            certificate_authority=cert["certificate_authority"],
            validation_method=cert["validation_method"],
            validity_days=cert["validity_days"] or defaults.ADVANCED_VALIDITY_DAYS,
            opts=self._child(replace_on_changes=["*"], delete_before_replace=False),
        )

    def _uploaded(self, prefix: str, cert: CertificateSpec) -> None:
        cloudflare.CustomSsl(
            prefix,
            zone_id=self._zone_id,
            certificate=cert["certificate"],
            private_key=cert["private_key"],
            bundle_method=defaults.CUSTOM_SSL_BUNDLE,
            type=defaults.CUSTOM_SSL_TYPE,
            opts=self._child(),
        )

    def _origin_ca(self, prefix: str, hosts: list[str], cert: CertificateSpec) -> dict[str, pulumi.Output[str]]:
        key = tls.PrivateKey(f"{prefix}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=self._child())
        csr = tls.CertRequest(
            f"{prefix}-csr",
            private_key_pem=key.private_key_pem,
            dns_names=hosts,
            subject={"common_name": hosts[0]},
            opts=self._child(),
        )
        origin = cloudflare.OriginCaCertificate(
            prefix,
            csr=csr.cert_request_pem,
            hostnames=hosts,
            request_type="origin-ecc",
            requested_validity=cert["validity_days"] or defaults.ORIGIN_CA_VALIDITY_DAYS,
            opts=self._child(),
        )
        return {"certificate": origin.certificate, "private_key": pulumi.Output.secret(key.private_key_pem)}

    def _acm(self, prefix: str, hosts: list[str], cert: CertificateSpec) -> pulumi.Output[str]:
        certificate = aws.acm.Certificate(
            prefix,
            domain_name=hosts[0],
            subject_alternative_names=hosts[1:] or None,
            validation_method="DNS",
            region=cert["region"],
            opts=self._child(),
        )
        options = certificate.domain_validation_options
        # One record per host, known before deployment; only their name and content wait for ACM.
        # ACM validates with CNAMEs, and a proxied record would answer with Cloudflare's addresses instead.
        records = [
            cloudflare.DnsRecord(
                resource_names.acm_validation_record(prefix, host),
                zone_id=self._zone_id,
                type="CNAME",
                proxied=False,
                ttl=defaults.ACM_VALIDATION_TTL,
                comment=f"appcdn: ACM validation of {host}",
                name=options.apply(partial(acm_validation_field, host=host, field="resource_record_name")),
                content=options.apply(partial(acm_validation_field, host=host, field="resource_record_value")),
                opts=self._child(),
            )
            for host in hosts
        ]
        validation = aws.acm.CertificateValidation(
            f"{prefix}-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.name for record in records],
            region=cert["region"],
            opts=self._child(),
        )
        return validation.certificate_arn
