"""What the tests share that is not a fixture: paths, the PostgreSQL server, certificates,
clients and builders. Fixtures stay in the conftest files and import these."""
