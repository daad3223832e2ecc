"""The ``license-desk`` command line: the top of the layers, beside the dashboard.

``cli.main`` is the group and its error handling; one module per command group (``collect``,
``reports`` with ``finance``, ``assign``, ``prices``, ``check``, ``deliveries``, ``demo``, ``serve``);
``common`` holds what they share. A command loads its inputs, calls ``analysis`` and prints:
nothing here computes a number. It may import every layer below (notify, actions, collectors,
store, analysis, licensedesk) but never the dashboard, which it starts as a Streamlit process;
only ``demo`` and ``demo_tenant`` import the simulator (``graphsim``), and only once a demo or
simulator command runs.
"""
