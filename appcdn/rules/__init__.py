"""Rule compilers: pure functions from the stack config to Cloudflare rule dicts, zone settings, app settings and
bucket policies. No Pulumi here (the layers are in docs/architecture.md)."""
