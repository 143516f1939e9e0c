"""appcdn: caching and CDN infrastructure as code for Django / django CMS apps.

The layers and what each may import are in docs/architecture.md (checked by import-linter in ``make test``).
"""
