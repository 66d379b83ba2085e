"""Contracts between processes: events (``events``) and request shapes (``dossiers``)."""

from motcua.contracts.events import (
    CONTRACTS,
    EXCHANGE,
    Event,
    InvalidEvent,
    build_event,
    parse_event,
)

__all__ = ["CONTRACTS", "EXCHANGE", "Event", "InvalidEvent", "build_event", "parse_event"]
