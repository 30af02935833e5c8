"""The `posture` command line: one module per command, wired in main."""

from posture.cli.main import main

__all__ = ["main"]
