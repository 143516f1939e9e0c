"""Code that runs outside Pulumi: inside the Django app (settings, storages, media header rules), in the S3 Batch
Operations Lambda, and on stored objects (S3 and Azure). Imports only the standard library and its own SDKs."""
