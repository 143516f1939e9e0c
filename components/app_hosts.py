"""``AppHosts``: a site's host names on one stage, proxied through Cloudflare to their origin."""

from collections.abc import Sequence
from typing import TypedDict

import pulumi
import pulumi_cloudflare as cloudflare

from appcdn import resource_names


class AppHostsArgs(TypedDict):
    zone_id: pulumi.Input[str]
    """Zone the hosts belong to."""
    hosts: Sequence[str]
    """Host names to serve, e.g. ``www.example.com``; the apex is allowed (CNAME flattening)."""
    origin: pulumi.Input[str]
    """The origin host name (the app on the PaaS, or a media bucket); every host is a proxied CNAME to it."""
    purpose: str
    """What the hosts serve ("app", "media"), written into the records' comments."""


class AppHosts(pulumi.ComponentResource):
    """Proxied CNAME records, so requests pass Cloudflare's cache and rules on their way to the origin."""

    records: list[cloudflare.DnsRecord]
    """The DNS records, one per host, sorted by host."""
    record_ids: pulumi.Output[list[str]]
    """Their ids, in the same order."""

    def __init__(self, name: str, args: AppHostsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(resource_names.APP_HOSTS_TYPE, name, {}, opts)
        self.records = [
            cloudflare.DnsRecord(
                resource_names.dns_record(name, host),
                zone_id=args["zone_id"],
                name=host,
                type="CNAME",
                content=args["origin"],
                proxied=True,
                ttl=1,
                comment=f"appcdn: {args['purpose']} host",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for host in sorted(args["hosts"])
        ]
        self.record_ids = pulumi.Output.all(*[r.id for r in self.records])
        self.register_outputs({"record_ids": self.record_ids})
