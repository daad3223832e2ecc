"""Reading the tenant from Microsoft Graph: sign-in and the HTTP client (``auth``, ``graph``), one
module per resource turning Graph's pages into rows (users, SKUs, subscriptions, groups, the
catalog), and a collection from end to end (``snapshot``; ``runner`` from the configuration).
Below actions, above the store: it may import ``store``, ``analysis`` and ``licensedesk``, never
Streamlit, the dashboard or the command line.
"""
