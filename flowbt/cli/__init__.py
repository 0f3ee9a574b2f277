"""The ``flowbt`` command line (typer): ``main`` is the entry point."""
