"""``python -m licensedesk`` is ``license-desk`` (the one module here that imports the top layer:
an entry point, never imported; the layers contract names it)."""

from cli.main import main

main()
