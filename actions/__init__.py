"""Changing the tenant: plans of licence changes built from a snapshot (``plan``), which group an
operator means (``groups``), and applying a plan (``apply``: opt-in, re-checked against live
seats, audited). Above the collectors (it sends through their Graph client) and the store; used
by the command line, the dashboard and nothing below them.
"""
