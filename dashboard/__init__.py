"""The Streamlit dashboard: the app and its pages (``app``, ``app_pages``), sign-in and roles
(``signin``, ``access``), cached reads of the store (``data``), charts and shared widgets. An
interface beside the command line (neither imports the other): it may import every layer below,
and is the only package that imports Streamlit.
"""
