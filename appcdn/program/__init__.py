"""The program: stack config → components → exports (``stack_program``, with the one adapter from config to
component args, ``component_args``), and the components as a Pulumi component package (``package_schema``)."""
