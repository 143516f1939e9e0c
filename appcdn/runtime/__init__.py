"""Code that runs outside Pulumi: in the S3 Batch Operations Lambda, and on stored objects (S3 and Azure). Imports
only the standard library, its own SDKs and django-appcdn's glob module (the Django app's side is django-appcdn)."""
