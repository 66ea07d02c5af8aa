"""The `lso` command line: thin typer commands over the library."""
