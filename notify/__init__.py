"""Delivering what License Desk has to say: digests of ``check``'s findings and mailed reports.

``notify.config`` reads the channels (the ``[notify]`` tables, secrets from the environment);
``notify.send`` talks to the servers (smtplib, requests); ``notify.deliver`` runs the channels one
after another, each audited in the store and none able to stop the others. What a message says is
decided in ``analysis.digest`` and ``analysis.messages`` (pure). Sits above ``actions`` in the
layers: it may use actions, collectors, the store, the analysis and ``licensedesk``, never the
command line or the dashboard.
"""
