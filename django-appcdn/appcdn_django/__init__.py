"""django-appcdn: the app's side of appcdn, installed into the Django app without Pulumi or a provider SDK.

``appcdn_django.settings`` (the shared cache and django CMS durations), ``appcdn_django.media`` and
``appcdn_django.storages`` (the media storage and its header rules) read what the stack exports;
``appcdn_django.globs`` is the one glob module, which the infrastructure package (``appcdn``) imports too.
Importing this package needs nothing beyond the standard library (the S3 Batch Operations Lambda ships
``globs`` with it).
"""

__version__ = "0.1.0"
