"""The stack config model: everything a project's stack files can declare, validated before any resource exists.

One module per feature, each model beside its named checks: ``cache`` (cache and image rules), ``zones``,
``media``, ``certificates``; ``stack`` (a site and one stack file), ``project`` (every stack file of the
project, checked together), ``stack_files`` (reading them as Pulumi does). Shared pieces: ``fields``
(value types), ``plans`` (what each Cloudflare plan allows), ``problems`` (errors with key paths).
"""
