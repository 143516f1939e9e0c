"""The logical names of the resources a stack declares, derived from its config, and where two would collide.

Pulumi identifies a resource by its type and name (and its parents' types): two resources of one type with one
name in one stack cannot both exist. Names embed zone names, site names and host names, so different configs
can give the same name (zones ``foo-bar.co.uk`` and ``foo.bar-co.uk``; site ``a`` with host ``b-live-x.example.com``
and site ``a-live-b`` with host ``x.example.com``). The program names its components with these functions; the
components name their children as ``<component>-<suffix>`` (``components/``), which ``declared_names`` follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from appcdn.config.problems import Problem


def zone_resource_name(zone: str) -> str:
    return zone.replace(".", "-")


def site_resource_name(site: str, stage: str) -> str:
    return f"{site}-{stage}"


def media_domain_resource_name(site: str, stage: str) -> str:
    return f"{site_resource_name(site, stage)}-media-domain"


def certificates_resource_name(site: str, stage: str) -> str:
    return f"{site_resource_name(site, stage)}-certificates"


def declared_names(site: str, stage: str, hosts: Sequence[str], media_hosts: Sequence[str],
                   certificates: Sequence[tuple[str, str, Sequence[str]]]) -> Iterable[tuple[str, str, str]]:
    """(component type, name, key path inside the site) of each name that embeds a host or certificate name:
    the DNS records of the app hosts and the media domain (``AppHosts``), and ACM validation records
    (``SiteCertificates``). ``certificates``: (name, mode, hosts) of each."""
    for host in hosts:
        yield "AppHosts", f"{site_resource_name(site, stage)}-{host}", "hosts"
    for host in media_hosts:
        yield "AppHosts", f"{media_domain_resource_name(site, stage)}-{host}", "media.domain.host"
    for j, (name, mode, cert_hosts) in enumerate(certificates):
        prefix = f"{certificates_resource_name(site, stage)}-{name}"
        yield "SiteCertificates", prefix, f"certificates[{j}].name"
        for host in cert_hosts if mode == "acm" else ():
            yield "SiteCertificates", f"{prefix}-{host}-validation", f"certificates[{j}].hosts"


def collisions(named: Iterable[tuple[str, str, str, str]]) -> Iterable[Problem]:
    """Problems for (type, name, path, what) entries whose type and name an earlier entry already has."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, name, path, what in named:
        other = seen.setdefault((kind, name), (path, what))
        if other[0] != path:
            fix = ("one stack file cannot declare both: declare one in another stack file of the project"
                   if kind == "Zone" else "rename one of the sites (names join site, stage and host with '-')")
            yield Problem(path, f"{what} would get the resource name {name!r}, which {other[1]} ({other[0]}) already "
                                f"has, and Pulumi cannot tell them apart; {fix}")
