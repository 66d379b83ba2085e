"""The notify service: SMS, e-mail and Zalo messages on the events a citizen cares about."""

from __future__ import annotations

from typing import Any

from motcua.amqp import rpc
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.notify import messages
from services.notify.models import metadata


class NotifyService(HealthCheck):
    name = "notify"

    db = Database(metadata)

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        messages.on_submitted(self.db, event)

    @rpc
    def messages_for_dossier(self, code: str) -> list[dict[str, Any]]:
        return messages.messages_for_dossier(self.db, code)
