"""The notify service: SMS, e-mail and Zalo messages on the events a citizen (or an
officer) cares about. Thin entrypoints: ``messages`` stores what an event calls for,
``sending`` sends it, ``receipts`` reads the providers' delivery receipts, ``templates``
keeps the template versions."""

from __future__ import annotations

import os
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer

from motcua.amqp import rpc
from motcua.config import section
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.notify import channels, messages, receipts, sending, templates
from services.notify.models import metadata
from services.notify.settings import enforce_production, options

# How often each replica looks for messages due (new, retried, or after quiet hours).
SEND_SECONDS = float(os.environ.get("MOTCUA_NOTIFY_SEND_SECONDS", "0.2"))


class Providers(DependencyProvider):
    """The configured channels (``notify.EMAIL``, ``.SMS``, ``.ZALO``), built once."""

    def setup(self) -> None:
        enforce_production()
        self.channels = channels.from_config(section("notify"), options().public_url)

    def get_dependency(self, worker_ctx: Any) -> dict[str, channels.Channel]:
        return self.channels


class NotifyService(HealthCheck):
    name = "notify"

    db = Database(metadata)
    providers = Providers()

    # -- events: each stores the messages it calls for, once ------------------------------
    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        messages.on_submitted(self.db, event)

    @consume_event("dossier.accepted")
    def on_dossier_accepted(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("dossier.refused")
    def on_dossier_refused(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("dossier.supplement_requested")
    def on_supplement_requested(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("payment.requested")
    def on_payment_requested(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("payment.paid")
    def on_payment_paid(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("dossier.resolved")
    def on_dossier_resolved(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("postal.delivery_created")
    def on_postal_delivery_created(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("postal.delivered")
    def on_postal_delivered(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("postal.delivery_failed")
    def on_postal_delivery_failed(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("dossier.extended")
    def on_dossier_extended(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("dossier.status_changed")
    def on_status_changed(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("dossier.returned")
    def on_dossier_returned(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("dossier.due_soon")
    def on_due_soon(self, event: Event) -> None:
        messages.on_event(self.db, event)

    @consume_event("dossier.overdue")
    def on_overdue(self, event: Event) -> None:
        messages.on_event(self.db, event)

    # -- sending --------------------------------------------------------------------------
    @timer(interval=SEND_SECONDS)
    def send_due(self) -> dict[str, int]:
        templates.seed_all(self.db)  # once per process
        return sending.send_due(self.db, self.providers, options())

    @rpc
    def receipt(self, raw_b64: str, signature: str | None) -> dict[str, Any]:
        return receipts.apply(self.db, raw_b64, signature, options().callback_secret)

    # -- reads and templates --------------------------------------------------------------
    @rpc
    def messages_for_dossier(self, code: str) -> list[dict[str, Any]]:
        return messages.messages_for_dossier(self.db, code)

    @rpc
    def list_templates(self) -> list[dict[str, Any]]:
        return templates.list_templates(self.db)

    @rpc
    def preview_template(self, template_id: str) -> dict[str, Any]:
        return templates.preview(self.db, template_id, options().public_url)

    @rpc
    def update_template(self, template_id: str, spec: dict[str, Any], actor: str,
                        command: dict[str, str] | None = None) -> dict[str, Any]:
        return templates.update(self.db, template_id, spec, actor, command)
