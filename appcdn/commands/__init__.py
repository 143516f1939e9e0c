"""The ``appcdn`` command (``cli``) and its subcommands, each in its own module or folder."""
