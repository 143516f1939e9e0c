"""appcdn's Pulumi components: thin ComponentResources wiring compiled policy into provider resources.

Installed as ``appcdn.components`` (``from appcdn.components.s3_media import S3Media``). Each component
lives in its own module, takes a ``TypedDict`` of args with a docstring under every field, exposes its
outputs and its main child resources as attributes, and registers as ``appcdn:index:<ClassName>``.

One convention for what must outlive a ``pulumi destroy``: a component's ``protect`` arg (default false)
gives the children that hold data or serve the site ``protect`` and ``retain_on_delete``.
"""
