"""The `rnnzoo` command line (typer); thin: it builds library objects and calls the library."""
