"""``appcdn diff``: both sides planned (``snapshot`` at a ``git_ref``), compared (``compare``, ``resources``) and
rendered (``render``)."""
