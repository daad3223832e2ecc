"""License Desk: configuration, errors and the command line (the interface layer)."""

__version__ = "0.1.0"
