"""Every number shown: pure functions from DataFrames to DataFrames (seats, costs, reclaim,
renewals, group errors, trends, the rows of each report and export, what a digest says). No
Streamlit, HTTP or database; it may import only ``licensedesk``, so the dashboard and the command
line compute nothing of their own and always agree.
"""
