"""Where the logical names of the resources a stack declares would collide.

Pulumi identifies a resource by its type and name (and its parents' types): two resources of one type with one
name in one stack cannot both exist. Names embed zone names, site names and host names, so different configs
can give the same name (zones ``foo-bar.co.uk`` and ``foo.bar-co.uk``; site ``a`` with host ``b-live-x.example.com``
and site ``a-live-b`` with host ``x.example.com``). The names are the program's own, from ``appcdn.resource_names``
(the one place that writes them), derived here from the config.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from appcdn import resource_names
from appcdn.config.problems import Problem


def declared_names(
    site: str,
    stage: str,
    hosts: Sequence[str],
    media_hosts: Sequence[str],
    certificates: Sequence[tuple[str, str, Sequence[str]]],
) -> Iterable[tuple[str, str, str]]:
    """(component type, name, key path inside the site) of each name that embeds a host or certificate name:
    the DNS records of the app hosts and the media domain (``AppHosts``), and the certificates and ACM validation
    records (``SiteCertificates``). ``certificates``: (name, mode, hosts) of each."""
    for host in hosts:
        yield "AppHosts", resource_names.dns_record(resource_names.app_hosts(site, stage), host), "hosts"
    for host in media_hosts:
        yield (
            "AppHosts",
            resource_names.dns_record(resource_names.media_domain_hosts(site, stage), host),
            "media.domain.host",
        )
    for j, (name, mode, cert_hosts) in enumerate(certificates):
        certificate = resource_names.certificate(resource_names.site_certificates(site, stage), name)
        yield "SiteCertificates", certificate, f"certificates[{j}].name"
        for host in cert_hosts if mode == "acm" else ():
            yield (
                "SiteCertificates",
                resource_names.acm_validation_record(certificate, host),
                f"certificates[{j}].hosts",
            )


def collisions(named: Iterable[tuple[str, str, str, str]]) -> Iterable[Problem]:
    """Problems for (type, name, path, what) entries whose type and name an earlier entry already has."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, name, path, what in named:
        other = seen.setdefault((kind, name), (path, what))
        if other[0] != path:
            fix = (
                "one stack file cannot declare both: declare one in another stack file of the project"
                if kind == "Zone"
                else "rename one of the sites (names join site, stage and host with '-')"
            )
            yield Problem(
                path,
                f"{what} would get the resource name {name!r}, which {other[1]} ({other[0]}) already "
                f"has, and Pulumi cannot tell them apart; {fix}",
            )
