"""Certificates for a site's hosts, by mode, with their checks. Hosts without one keep Universal SSL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import Field, SecretStr

from appcdn import defaults
from appcdn.config.fields import AwsRegion, Host, Name, Strict
from appcdn.config.messages import SecretTest
from appcdn.config.plans import PlanTier, needs
from appcdn.config.problems import Problem, duplicate_names

EDGE_CERTIFICATE_MODES = ("advanced", "uploaded")  # served by Cloudflare; origin_ca and acm serve elsewhere
# https://developers.cloudflare.com/ssl/reference/certificate-validity-periods/
ADVANCED_VALIDITY = {"lets_encrypt": (90,), "google": (14, 30, 90), "ssl_com": (14, 30, 90, 365)}
# https://developers.cloudflare.com/ssl/origin-configuration/origin-ca/
ORIGIN_CA_VALIDITY = (7, 30, 90, 365, 730, 1095, 5475)
# https://developers.cloudflare.com/ssl/edge-certificates/advanced-certificate-manager/#limitations
MAX_ADVANCED_HOSTS = 50
SECRET_FIELDS = ("certificate", "private_key")


class CertificateConfig(Strict):
    """A certificate for some of the site's hosts (app or media)."""

    name: Name = Field(description="unique per site")
    mode: Literal["advanced", "uploaded", "origin_ca", "acm"] = Field(description="see the table below")
    hosts: list[Host] = Field(min_length=1, description="hosts of the site on this stage")
    certificate_authority: Literal["google", "lets_encrypt", "ssl_com"] = Field(
        default=defaults.CERTIFICATE_AUTHORITY, description="advanced: the issuing authority"
    )
    validation_method: Literal["txt", "http", "email"] = Field(
        default=defaults.VALIDATION_METHOD, description="advanced: how the hosts are validated"
    )
    validity_days: int | None = Field(
        default=None,
        description="advanced: 14/30/90/365 by authority (default "
        f"{defaults.ADVANCED_VALIDITY_DAYS}); origin_ca: "
        f"7..5475 (default {defaults.ORIGIN_CA_VALIDITY_DAYS})",
    )
    certificate: SecretStr | None = Field(default=None, description="uploaded: PEM, set with --secret")
    private_key: SecretStr | None = Field(default=None, description="uploaded: PEM, set with --secret")
    region: AwsRegion = Field(default=defaults.ACM_REGION, description="acm: us-east-1 for CloudFront")


def certificate_problems(
    path: str,
    certs: Sequence[CertificateConfig],
    own_hosts: Sequence[str],
    zone_name: str,
    plan: PlanTier,
    ssl_mode: str,
) -> Iterable[Problem]:
    covered: dict[str, str] = {}
    yield from duplicate_names(path, [c.name for c in certs], "certificate")
    for i, cert in enumerate(certs):
        cp = f"{path}[{i}]"
        for host in sorted({h for h in cert.hosts if cert.hosts.count(h) > 1}):
            yield Problem(f"{cp}.hosts", f"{host!r} is listed more than once")
        for host in cert.hosts:
            if host not in own_hosts:
                yield Problem(
                    f"{cp}.hosts", f"{host!r} is not one of the site's hosts on this stage ({', '.join(own_hosts)})"
                )
            elif cert.mode in EDGE_CERTIFICATE_MODES:
                if host in covered and covered[host] != cert.name:
                    yield Problem(f"{cp}.hosts", f"{host!r} already has an edge certificate: {covered[host]!r}")
                covered.setdefault(host, cert.name)
        given = [k for k in SECRET_FIELDS if getattr(cert, k) is not None]
        if cert.mode == "uploaded":
            # https://developers.cloudflare.com/ssl/edge-certificates/custom-certificates/
            message = needs(plan, "custom_ssl")
            if message:
                yield Problem(f"{cp}.mode", f"{message}. Use advanced or the default Universal SSL")
            for key in SECRET_FIELDS:
                if key not in given:
                    yield Problem(f"{cp}.{key}", "required for an uploaded certificate (PEM, set with --secret)")
        elif given:
            yield Problem(cp, f"{', '.join(given)} only for mode uploaded, not {cert.mode}")
        if cert.mode == "advanced":
            yield from _advanced_problems(cp, cert, zone_name)
        if cert.mode == "origin_ca":
            if ssl_mode != "strict":
                yield Problem(
                    f"{cp}.mode", f"an Origin CA certificate is for SSL mode strict; the zone uses {ssl_mode}"
                )
            if cert.validity_days is not None and cert.validity_days not in ORIGIN_CA_VALIDITY:
                yield Problem(
                    f"{cp}.validity_days", f"Origin CA issues for {', '.join(map(str, ORIGIN_CA_VALIDITY))} days"
                )
        if cert.mode == "acm" and cert.validity_days is not None:
            yield Problem(f"{cp}.validity_days", "ACM sets the validity itself")


def _advanced_problems(path: str, cert: CertificateConfig, zone_name: str) -> Iterable[Problem]:
    if len(cert.hosts) > MAX_ADVANCED_HOSTS:
        yield Problem(f"{path}.hosts", f"an advanced certificate pack holds at most {MAX_ADVANCED_HOSTS} hosts")
    if zone_name not in cert.hosts:
        yield Problem(f"{path}.hosts", f"an advanced certificate pack must include the zone apex {zone_name}")
    allowed = ADVANCED_VALIDITY[cert.certificate_authority]
    if cert.validity_days is not None and cert.validity_days not in allowed:
        yield Problem(
            f"{path}.validity_days", f"{cert.certificate_authority} issues for {', '.join(map(str, allowed))} days"
        )


def secret_problems(path: str, certs: Sequence[CertificateConfig], secret: SecretTest) -> Iterable[Problem]:
    """Private keys and certificates must be Pulumi secrets, each one: ``secret`` says whether the value at a path
    was given as one (exactly, when the stack file was read offline; by whole key under the engine)."""
    for j, cert in enumerate(certs):
        for key in SECRET_FIELDS:
            if getattr(cert, key) is not None and not secret(f"{path}[{j}].{key}"):
                yield Problem(
                    f"{path}[{j}].{key}",
                    f"must be a secret: pulumi config set --secret --path 'appcdn:{path}[{j}].{key}' < file.pem",
                )
