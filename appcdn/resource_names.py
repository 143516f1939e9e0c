"""The logical names and component type tokens of what the program declares, written once.

The program and the components name their resources with these functions, and ``appcdn adopt`` uses the
same ones to name what it imports, so an imported resource lands exactly where the program declares it.
Plain functions, no Pulumi: the command line can use them without loading a provider SDK.
"""

from __future__ import annotations

ZONE_TYPE = "appcdn:index:Zone"
APP_HOSTS_TYPE = "appcdn:index:AppHosts"
PURGE_TOKEN_TYPE = "appcdn:index:PurgeToken"
SITE_CERTIFICATES_TYPE = "appcdn:index:SiteCertificates"


def zone_component(zone_name: str) -> str:
    """The ``Zone`` component of a zone: ``example.com`` → ``example-com``."""
    return zone_name.replace(".", "-")


def zone_resource(component: str) -> str:
    """The zone itself, when the component creates it."""
    return f"{component}-zone"


def zone_setting(component: str, setting_id: str) -> str:
    return f"{component}-{setting_id.replace('_', '-')}"


def cache_ruleset(component: str) -> str:
    """The zone's ``http_request_cache_settings`` entry point."""
    return f"{component}-cache-rules"


def config_ruleset(component: str) -> str:
    """The zone's ``http_config_settings`` entry point."""
    return f"{component}-config-rules"


def cloud_connector(component: str) -> str:
    """The zone's Cloud Connector rules (one resource: the whole list)."""
    return f"{component}-cloud-connector"


def app_hosts(site: str, stage: str) -> str:
    """The ``AppHosts`` component of a site's app hosts on one stage."""
    return f"{site}-{stage}"


def purge_token(site: str, stage: str) -> str:
    """The ``PurgeToken`` component of a site's app on one stage."""
    return f"{site}-{stage}-purge"


def api_token(purge_token_component: str) -> str:
    """The Cloudflare API token of a ``PurgeToken`` component."""
    return f"{purge_token_component}-token"


def media_domain_hosts(site: str, stage: str) -> str:
    """The ``AppHosts`` component of a site's custom media domain on one stage."""
    return f"{site}-{stage}-media-domain"


def dns_record(hosts_component: str, host: str) -> str:
    """One proxied record of an ``AppHosts`` component."""
    return f"{hosts_component}-{host}"


def media_storage(site: str, stage: str) -> str:
    return f"{site}-{stage}-media"


def media_headers(site: str, stage: str) -> str:
    """The header reconcile of a site's media: a ``MediaHeaders`` resource, or an ``S3HeadersBatch`` component."""
    return f"{site}-{stage}-media-headers"


def site_certificates(site: str, stage: str) -> str:
    return f"{site}-{stage}-certificates"


def certificate(certificates_component: str, certificate_name: str) -> str:
    """One certificate of a ``SiteCertificates`` component (its pack, upload, Origin CA or ACM certificate)."""
    return f"{certificates_component}-{certificate_name}"


def acm_validation_record(certificate_name: str, host: str) -> str:
    """The DNS record that validates one host of an ACM certificate (``certificate_name``: ``certificate()``)."""
    return f"{certificate_name}-{host}-validation"
