"""appcdn: caching and CDN infrastructure as code for Django / django CMS apps.

Layers, each importing only the ones above it in this list:
``appcdn.config`` (typed stack model) → ``appcdn.policy`` (pure compilers) →
``components`` (Pulumi ComponentResources) → ``__main__.py`` (the program) →
``appcdn.cli`` / ``appcdn.offline`` (tooling).
"""
