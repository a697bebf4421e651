"""A small, bounded interpreter for the parts of a file that build and run
models: machine.py wires its parts together (see ARCHITECTURE.md)."""
