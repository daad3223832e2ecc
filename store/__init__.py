"""The store: one SQLite file or a PostgreSQL database (``db``, ``locations``, ``postgres``),
its migrations, the snapshots and their named queries returning DataFrames, the price book, the
audit and delivery logs. Below the collectors: it may import ``analysis`` and ``licensedesk``,
never HTTP clients, Streamlit, or any layer above it.
"""
