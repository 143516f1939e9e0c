"""appcdn's Pulumi components: thin ComponentResources wiring compiled policy into provider resources.

Each component lives in its own module, takes a ``TypedDict`` of args and registers as
``appcdn:index:<ClassName>``.
"""
