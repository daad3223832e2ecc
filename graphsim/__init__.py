"""graphsim: a simulated Microsoft Graph v1.0 + Entra tenant for License Desk's tests and demo.

Public API (see the lead's contract):
    graphsim.tenant.build_tenant(users, seed, start) -> Tenant; Tenant.advance_day(), seat_counts(), ...
    graphsim.server.GraphSimulator(tenant | users=, seed=, page_cap=) -> HTTPS server on 127.0.0.1

Modules: skus (catalog and rule tables), people (word lists), model (state dataclasses), state
(the tenant's state container), builder (seeded tenant), evolution (one simulated day), licensing
(group processing and write rules), tenant (the state with the helpers that change it), payloads
(Graph JSON), odata (query options and page tokens), errors (Graph error envelope), calls
(request/answer types, the request log's entries), routes (read resources and routing), writes
(write calls), batch ($batch), auth (token endpoint), faults (fault injection), handler (HTTP/TLS),
server (GraphSimulator), usage_locations (ISO country codes).

The product never imports this package (import-linter forbids it); only the CLI's demo and simulator
commands and the tests do, and it imports nothing of the product. Besides the standard library it
needs cryptography (a product dependency) and the ``sim`` extra: trustme (the throwaway CA) and
PyJWT (the tokens). Importing graphsim itself imports nothing else.
"""
