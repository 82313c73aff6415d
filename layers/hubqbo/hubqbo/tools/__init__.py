"""Operator commands: `python -m hubqbo.tools <command>` (see `__main__`)."""
