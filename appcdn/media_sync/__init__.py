"""Reconcile the headers of stored media objects with a site's ordered header rules (first match wins).

``rules`` (which headers an object should carry), ``report`` (the tally of a run), ``runner`` (bounded,
streaming concurrency), ``s3`` and ``azure`` (the stores), ``engine`` (one run over one store),
``purge`` (Cloudflare purge of what changed), ``command`` (``appcdn media sync-headers``),
``deploy`` (the same run during ``pulumi up``) and ``batch_lambda`` (the same reconcile per object, as the
Lambda function of an S3 Batch Operations job).
"""
