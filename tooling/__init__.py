"""Developer tooling, not installed: generators of checked-in files (``reference``, ``cloud_regions``)."""
