"""License Desk's bottom layer: what every other layer may import.

``config`` (the settings, from the environment and an optional TOML file) and ``errors`` (the
errors whose message is one sentence for a person, with their exit codes). Imports no other
package of the product. ``python -m licensedesk`` (``__main__``) runs the command line.
"""

__version__ = "0.1.0"
