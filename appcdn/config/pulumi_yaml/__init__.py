"""Stack files read the way the Pulumi CLI reads them: go-yaml v3's scalars (``go_yaml``), its bounded decoding
(``stack_yaml``) and Pulumi's config values (``stack_files``)."""
