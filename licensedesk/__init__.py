"""License Desk's bottom layer: what every other layer may import, and which imports none of them.

Configuration (``config``: settings from the environment and a TOML file; ``notify_config``: the
notification channels), the errors that carry one sentence for a person (``errors``), and the
command line's value types and output formats (``params``, ``output``). Imports only the standard
library and third-party packages; ``python -m licensedesk`` (``__main__``) runs the command line.
"""

__version__ = "0.1.0"
