"""The user pages' parser process: a page's bytes in, its rows out (``collectors.user_rows``).

The collector's own CPU was mostly parsing JSON and building rows, on the thread that also stages
them (``benchmarks/bench_collect.py --profile``: ~4 of 10 s per 100,000 users); here they run on
another core while the collector stages the page before. Started and ended as every child of a
collection is (``collectors.child``); the collector's side is ``collectors.page_parser``.

The protocol, per page: ``with_signins`` (a bool) then the body as one byte message; the answer
is ``collectors.user_rows.decode_page``'s tuple. Pages are answered in the order they came.
This module imports only what parsing needs, so that the process starts fast.
"""

from __future__ import annotations

import gc
from multiprocessing.connection import Connection

from collectors.child import child_connection
from collectors.user_rows import decode_page


def serve(conn: Connection) -> None:
    """Decode each page sent until the pipe closes."""
    try:
        while True:
            with_signins = conn.recv()
            conn.send(decode_page(conn.recv_bytes(), with_signins=with_signins))
    except (EOFError, OSError):
        return  # the collector has gone, or is done
    finally:
        conn.close()


if __name__ == "__main__":
    # Each page's objects are trees (parsed JSON, then tuples), freed by reference counting once
    # its answer is sent; the cyclic collector found nothing to free and cost ~17% of parsing
    # (0.68 against 0.57 s for 101 pages of 999 users).
    gc.disable()
    serve(child_connection())
