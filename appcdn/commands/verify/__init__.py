"""``appcdn verify``: the stack's behaviour table checked against the live edge (``run``): which requests stand
for each row (``cases``), how they are sent (``client``), what the answers say (``judge``), the report (``report``)."""
