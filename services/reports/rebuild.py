"""``motcua reports rebuild``: the read model emptied and refilled from the owners' logs.

Intake's and processing's outboxes keep every event they published, in order; each
answers ``event_log(after_id, limit)`` over RPC. The rebuild pages through them and
hands each page to the reports service, which applies it as the live consumers do. An
event the live consumers apply meanwhile is applied twice, which the facts make
harmless (``services.reports.facts``); one not yet published arrives live later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SOURCES = ("intake", "processing")  # the owners of the events reports reads
PAGE = 500


def rebuild(rpc: Any, progress: Callable[[dict[str, Any]], None] | None = None,
            page: int = PAGE) -> int:
    """Rebuild through ``rpc`` (a nameko ``ClusterRpcClient``); the events applied."""
    rpc.reports.clear()
    applied = 0
    for source in SOURCES:
        after = 0
        while rows := getattr(rpc, source).event_log(after, page):
            applied += rpc.reports.apply_logged([row["body"] for row in rows])
            after = rows[-1]["id"]
            if progress:
                progress({"source": source, "after": after, "applied": applied})
    return applied
