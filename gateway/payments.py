"""The payment routes (lệ phí), a part of ``GatewayService``: a dossier's payment, cash at
the counter, the VietQR image and the provider's callback. The payment service owns them;
the gateway checks who calls and hands the raw callback body on for its signature."""

from __future__ import annotations

import base64
from typing import Any

from werkzeug.wrappers import Request, Response

from gateway.apidoc import DOSSIER_CODE, READ_ROLES, WHO_SEES_A_DOSSIER, Route
from gateway.forms import pdf_response
from gateway.http import api, json_response, public_url, query, read_json
from gateway.routes import RouteGroup
from gateway.schemas import DiscrepancySchema, PaymentSchema
from motcua.contracts.commands import Command
from motcua.contracts.dossiers import CashPaymentSchema
from motcua.contracts.payments import (
    CallbackSchema,
    DiscrepancyQuerySchema,
    ResolveDiscrepancySchema,
)
from motcua.errors import validated


class PaymentRoutes(RouteGroup):
    """Relies on the service's ``auth``, ``services``, ``_once`` and its dossier checks."""

    @api("GET", "/api/v1/dossiers/<string:code>/payment")
    def get_payment(self, request: Request, code: str) -> Response:
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        self._visible_dossier(actor, code)
        return json_response(self.services.call("payment", "payment_for_dossier", code,
                                                public_url()))

    @api("POST", "/api/v1/dossiers/<string:code>/payment/cash")
    def pay_cash(self, request: Request, code: str) -> Response:
        """Thu tiền mặt: an officer of the desk takes the fee at the counter (biên lai)."""
        actor = self.auth.actor(request, "officer")

        def send(command: Command) -> Response:
            body = validated(CashPaymentSchema(), read_json(request))
            self._changeable_dossier(actor, code)
            return json_response(self.services.call(
                "payment", "cash", code, body["amount"], body["receipt_number"], actor.sub,
                command, public_url()))

        return self._once(request, actor, send)

    @api("GET", "/api/v1/dossiers/<string:code>/payments/<int:number>/receipt.pdf")
    def payment_receipt(self, request: Request, code: str, number: int) -> Response:
        """Biên lai: the receipt of a paid payment, for whoever may see the dossier."""
        actor = self.auth.actor(request, *READ_ROLES)
        dossier = self._visible_dossier(actor, code)
        pdf = self.services.call("payment", "receipt_pdf", code, number,
                                 self._form_details(dossier))
        return pdf_response(pdf, f"{code}-bien-lai-{number}.pdf")

    @api("GET", "/api/v1/payments/discrepancies")
    def payment_discrepancies(self, request: Request) -> Response:
        """Transfers held for an officer: those to the caller's agencies (admin: all)."""
        actor = self.auth.actor(request, "officer", "admin")
        args = query(DiscrepancyQuerySchema(), request)
        return json_response(self.services.call("payment", "discrepancies",
                                                self._agencies(actor), args["resolved"]))

    @api("POST", "/api/v1/payments/discrepancies/<int:number>/resolve")
    def resolve_discrepancy(self, request: Request, number: int) -> Response:
        actor = self.auth.actor(request, "officer", "admin")

        def send(command: Command) -> Response:
            body = validated(ResolveDiscrepancySchema(), read_json(request))
            return json_response(self.services.call(
                "payment", "resolve_discrepancy", number, body["resolution"], actor.sub,
                self._agencies(actor), command))

        return self._once(request, actor, send)

    def _agencies(self, actor: Any) -> list[str] | None:
        return None if actor.role == "admin" else sorted(self._scope(actor))

    @api("GET", "/api/v1/payments/<string:payment_id>/qr.png")
    def payment_qr(self, request: Request, payment_id: str) -> Response:
        """The QR image of a pending payment. No token: its id is unguessable (a uuid), and
        a banking app or an <img> on the portal loads it without one."""
        png = self.services.call("payment", "qr_png", payment_id)
        return Response(base64.b64decode(png), content_type="image/png")

    @api("POST", "/api/v1/payments/callback")
    def payment_callback(self, request: Request) -> Response:
        """The payment provider (no token): the body's HMAC in X-Signature proves it."""
        raw = request.get_data(cache=True)
        return json_response(self.services.call(
            "payment", "callback", base64.b64encode(raw).decode("ascii"),
            request.headers.get("X-Signature"), public_url()))


DOCUMENTED: tuple[Route, ...] = (
    Route(
        "GET", "/api/v1/dossiers/<string:code>/payment", "getDossierPayment",
        "The fee payment of a dossier (lệ phí)",
        "The latest payment requested of the dossier: a fee due at submission, a payment "
        "an officer requested during processing, or a fee due with the result. While it is "
        "pending, `qr` carries its VietQR payload (amount, the collecting agency's account "
        "and a memo unique to this payment) and the address of its image. "
        f"{WHO_SEES_A_DOSSIER}",
        "payments", PaymentSchema, "The payment.", roles=READ_ROLES,
        path_params=DOSSIER_CODE, errors=(401, 403, 404, 429, 503),
        error_notes={404: "Unknown or invisible dossier, or no payment for it (no fee "
                          "is due at intake)."}),
    Route(
        "POST", "/api/v1/dossiers/<string:code>/payment/cash", "payDossierInCash",
        "Take the payment in cash at the counter (thu tiền mặt)",
        "An officer of the receiving desk records the dossier's waiting payment as paid in "
        "cash, against a receipt (biên lai). The amount must be the one asked.",
        "payments", PaymentSchema, "Paid: the payment.", roles=("officer",),
        path_params=DOSSIER_CODE, body=CashPaymentSchema,
        body_example={"amount": 8000, "receipt_number": "BL-2026-000123"},
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={404: "Unknown or invisible dossier, or no payment waiting.",
                     422: "Invalid fields, or not the amount asked (nothing is paid)."}),
    Route(
        "GET", "/api/v1/dossiers/<string:code>/payments/<int:number>/receipt.pdf",
        "getPaymentReceipt", "The receipt of a paid payment (biên lai điện tử)",
        "The electronic receipt (biên lai thu phí, lệ phí) of the dossier's payment "
        "`number` (the payment's `number`; its `receipt_url` links here): the collecting "
        "agency, the receipt's number (the officer's for cash, else the transfer memo), the "
        "payer, the fee and its computation, the amount in figures and in words, how and "
        f"when it was paid, and its refund if any. {WHO_SEES_A_DOSSIER}",
        "payments", {"type": "string", "format": "binary"}, "The PDF.", roles=READ_ROLES,
        path_params={**DOSSIER_CODE, "number": "The payment's number (1, 2, ...)."},
        content_type="application/pdf", response_headers=("Content-Disposition",),
        errors=(401, 403, 404, 429, 503),
        error_notes={404: "Unknown or invisible dossier, or that payment is not paid."}),
    Route(
        "GET", "/api/v1/payments/discrepancies", "listPaymentDiscrepancies",
        "Transfers held for an officer",
        "Money the provider reported that payment did not accept: an amount that is not "
        "the one asked (overpaid, underpaid: the callback got a 422), a transfer for a "
        "payment cancelled or refunded (not_wanted), a second transfer for a paid one "
        "(duplicate). An officer sees those of payments to its agency and the agencies "
        "under it; an admin every one. The newest 200, open ones unless `resolved=true`.",
        "payments", {"type": "array", "items": DiscrepancySchema}, "The held transfers.",
        roles=("officer", "admin"), query=DiscrepancyQuerySchema,
        query_notes={"resolved": "true: those already resolved (default false)."},
        errors=(400, 401, 403, 422, 429, 503)),
    Route(
        "POST", "/api/v1/payments/discrepancies/<int:number>/resolve",
        "resolveDiscrepancy", "Resolve a held transfer",
        "The officer records what was done with the money (refunded by hand, the rest "
        "asked of the citizen, ...). Once: a second resolution is a 409. Reconciliation "
        "then lists the transfer as explained, not as a discrepancy.",
        "payments", DiscrepancySchema, "The resolved transfer.", roles=("officer", "admin"),
        path_params={"number": "The held transfer's id (GET .../discrepancies)."},
        body=ResolveDiscrepancySchema,
        body_example={"resolution": "Đã hoàn trả 1.000 đồng chuyển thừa (UNC 123)"},
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={404: "No such held transfer for this officer's agencies.",
                     409: "Already resolved."}),
    Route(
        "GET", "/api/v1/payments/<string:payment_id>/qr.png", "getPaymentQr",
        "The VietQR image of a payment",
        "The QR code of a pending payment's payload, for a phone's camera. No token: the "
        "payment's id is an unguessable uuid, so a banking app or the portal's <img> loads "
        "it as is.", "payments", {"type": "string", "format": "binary"}, "The PNG.",
        path_params={"payment_id": "The payment's id (GET .../payment answers it)."},
        content_type="image/png", errors=(404, 429, 503),
        error_notes={404: "No such payment, or it is no longer waiting to be paid."}),
    Route(
        "POST", "/api/v1/payments/callback", "paymentCallback",
        "The payment provider's callback",
        "The provider reports a transfer. `X-Signature`: the hex HMAC-SHA256 of the raw "
        "body with the provider secret (MOTCUA_PAYMENT_SECRET). A bad signature is a 401; "
        "an amount that is not the one asked is a 422 and nothing is paid; a repeat of a "
        "processed callback, a late or a reordered one, answers 200 and changes nothing "
        "(a payment never moves backwards). A success makes the payment paid and the "
        "dossier goes on (payment.paid).",
        "payments", PaymentSchema, "The payment, after the callback.",
        body=CallbackSchema,
        body_example={"payment_id": "5f0b8c3e-1d2a-4a7e-9f3b-2c6d8e1a4b5c",
                      "transaction_id": "FT26335123456", "amount": 8000,
                      "status": "success", "paid_at": "2026-12-01T09:15:00+07:00"},
        errors=(400, 401, 404, 409, 413, 422, 429, 503),
        error_notes={401: "The X-Signature is missing or not the body's HMAC.",
                     404: "No such payment.",
                     409: "This transaction id already paid another payment."}),
)
