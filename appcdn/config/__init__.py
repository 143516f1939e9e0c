"""The stack config model: everything a project's stack files can declare, validated before any resource exists.

One module per feature, each model beside its named checks: ``cache`` (cache and image rules), ``match`` (which
requests a rule matches), ``zones``, ``media``, ``certificates``; ``stack`` (a site and one stack file),
``project`` (every stack file of the project, checked together), ``names`` (logical resource names and their
collisions). Reading the files as the Pulumi CLI does: ``stack_files`` (Pulumi's config values), ``stack_yaml``
(go-yaml v3's decoding, bounded) and ``go_yaml`` (go-yaml v3's scalar rules). Shared pieces: ``fields`` (value
types), ``globs`` (glob inclusion and overlap), ``plans`` (what each Cloudflare plan allows), ``regions``
(generated cloud region lists), ``messages`` (validation errors in our words, secrets never shown), ``problems``
(errors with file, line and key path).
"""
