"""``appcdn adopt``: the bulk import file (``importer``) and what the zone does today next to after ``up``
(``review``)."""
