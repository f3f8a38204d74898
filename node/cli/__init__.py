"""The `orechain` command."""

from node.cli.main import main

__all__ = ["main"]
