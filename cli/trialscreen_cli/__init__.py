"""The `trialscreen` command line: a thin typer layer over the trialscreen library."""
