"""``python -m licensedesk`` is ``license-desk``."""

from licensedesk.cli import main

main()
