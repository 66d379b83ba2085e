"""The printed forms' routes (Circular 03/2025/TT-VPCP), a part of ``GatewayService``.

Each form is rendered by the service that owns its data (intake: 01, 02 at reception, 03;
processing: 02 during processing, 04, 05, 06); the gateway checks who may see the
dossier, as for the dossier itself, and hands intake's part of the data to processing.
The mixin keeps these routes out of ``gateway/service.py``; it relies on the service's
``auth``, ``services`` and ``_visible_dossier``.
"""

from __future__ import annotations

import base64
from typing import Any

from werkzeug.wrappers import Request, Response

from gateway.http import api, query
from gateway.routes import RouteGroup
from gateway.tracking import CONTENT_SECURITY_POLICY, tracking_page
from motcua.contracts.forms import FormQuerySchema, RegisterQuerySchema
from motcua.errors import Forbidden, NotFound

TITLES = {
    "01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    "04": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    "05": "Phiếu dừng giải quyết hồ sơ",
    "06": "Phiếu kiểm soát quá trình giải quyết hồ sơ",
}
ROUTES = {"01": "receipt.pdf", "02": "supplement-request.pdf", "03": "refusal.pdf",
          "04": "apology.pdf", "05": "stop-notice.pdf", "06": "control-slip.pdf"}
FILE_NAMES = {"02": "phieu-yeu-cau-bo-sung", "03": "phieu-tu-choi",
              "04": "phieu-xin-loi-hen-lai", "05": "phieu-dung-giai-quyet"}
READERS = ("citizen", "officer", "admin")


def pdf_response(encoded: str, filename: str) -> Response:
    """A PDF that came over RPC as base64, shown inline with its file name."""
    return Response(base64.b64decode(encoded), content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"'})


class FormRoutes(RouteGroup):
    """Forms 02 to 05, the register (07), form 01's tracking page and the dossier
    view's list of forms."""

    @api("GET", "/api/v1/dossiers/<string:code>/supplement-request.pdf")
    def supplement_request(self, request: Request, code: str) -> Response:
        """Form 02: the latest request for a supplement, or ``?number=N`` counted over the
        dossier's life (the desk's at reception first, then processing's)."""
        actor = self.auth.actor(request, *READERS)
        number = query(FormQuerySchema(), request)["number"]
        dossier = self._visible_dossier(actor, code)
        issued = self._supplement_requests(code, self._notices(code))
        if not issued or (number is not None and number > len(issued)):
            raise NotFound(f"Dossier {code} has no supplement request"
                           f"{f' {number}' if number else ''}.")
        number = number or len(issued)
        owner, local = issued[number - 1]
        if owner == "intake":
            pdf = self.services.call("intake", "supplement_request_pdf", code, local)
        else:
            pdf = self.services.call("processing", "notice_pdf", code, "02", local,
                                     self._form_details(dossier) | {"number": number})
        return pdf_response(pdf, f"{code}-{FILE_NAMES['02']}.pdf")

    @api("GET", "/api/v1/dossiers/<string:code>/refusal.pdf")
    def refusal(self, request: Request, code: str) -> Response:
        """Form 03: why the desk refused the dossier (404 unless it was refused)."""
        actor = self.auth.actor(request, *READERS)
        self._visible_dossier(actor, code)
        return pdf_response(self.services.call("intake", "refusal_pdf", code),
                            f"{code}-{FILE_NAMES['03']}.pdf")

    @api("GET", "/api/v1/dossiers/<string:code>/apology.pdf")
    def apology(self, request: Request, code: str) -> Response:
        """Form 04: the apology and new appointment issued with the extension."""
        actor = self.auth.actor(request, *READERS)
        return self._processing_notice(actor, code, "04",
                                       query(FormQuerySchema(), request)["number"])

    @api("GET", "/api/v1/dossiers/<string:code>/stop-notice.pdf")
    def stop_notice(self, request: Request, code: str) -> Response:
        """Form 05: why processing stopped."""
        actor = self.auth.actor(request, *READERS)
        return self._processing_notice(actor, code, "05",
                                       query(FormQuerySchema(), request)["number"])

    def _processing_notice(self, actor: Any, code: str, form: str,
                           number: int | None) -> Response:
        dossier = self._visible_dossier(actor, code)
        pdf = self.services.call("processing", "notice_pdf", code, form, number,
                                 self._form_details(dossier))
        return pdf_response(pdf, f"{code}-{FILE_NAMES[form]}.pdf")

    @api("GET", "/track/<string:code>")
    def tracking(self, request: Request, code: str) -> Response:
        """Where form 01's QR code and printed link lead (MOTCUA_PUBLIC_URL/track/{code}):
        a page for a person that asks for the phone number, then shows the status."""
        return Response(tracking_page(code), content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    @api("GET", "/api/v1/registers/<string:agency>.pdf")
    def register_pdf(self, request: Request, agency: str) -> Response:
        """Form 07, the register of the dossiers ``agency`` received in the period."""
        actor = self.auth.actor(request, "officer", "admin")
        return self._register(actor, agency, query(RegisterQuerySchema(), request), "pdf")

    @api("GET", "/api/v1/registers/<string:agency>.csv")
    def register_csv(self, request: Request, agency: str) -> Response:
        """Form 07 as CSV, for spreadsheets and the province's reports."""
        actor = self.auth.actor(request, "officer", "admin")
        return self._register(actor, agency, query(RegisterQuerySchema(), request), "csv")

    def _register(self, actor: Any, agency: str, period: dict[str, Any],
                  kind: str) -> Response:
        """Officers of the agency or one above it, and admins; intake reads the rows,
        processing says where each accepted one stands."""
        if actor.role == "officer" and agency not in self._scope(actor):
            raise Forbidden(f"{agency} is outside {actor.agency}'s agencies.")
        start, end = period["start"].isoformat(), period["end"].isoformat()
        codes = self.services.call("intake", "register_codes", agency, start, end)
        progress = self.services.call("processing", "progress_of", codes) if codes else {}
        encoded = self.services.call("intake", "register_file", agency, start, end,
                                     progress, kind)
        filename = f"so-theo-doi-ho-so-{agency}-{start}-{end}.{kind}"
        content_type = "application/pdf" if kind == "pdf" else "text/csv; charset=utf-8"
        return Response(base64.b64decode(encoded), content_type=content_type, headers={
            "Content-Disposition": f'{"inline" if kind == "pdf" else "attachment"}; '
                                   f'filename="{filename}"'})

    # -- what the routes share --------------------------------------------------------------

    def _notices(self, code: str) -> list[dict[str, Any]]:
        """Forms 02, 04 and 05 processing issued, oldest first."""
        return self.services.call("processing", "notices", code)

    def _supplement_requests(self, code: str,
                             notices: list[dict[str, Any]]) -> list[tuple[str, int]]:
        """Every form 02 of the dossier as (owner, owner's number), in the order issued."""
        at_reception = self.services.call("intake", "supplement_requests", code)
        return [("intake", r["number"]) for r in at_reception] + [
            ("processing", n["number"]) for n in notices if n["form"] == "02"]

    def _form_details(self, dossier: dict[str, Any]) -> dict[str, Any]:
        """Intake's part of a form processing prints: agency names, the province, the
        procedure and the applicant."""
        agencies = self.services.call("intake", "list_agencies")
        names = {a["code"]: a["name"] for a in agencies}
        parents = {a["code"]: a["parent"] for a in agencies}
        root = dossier["agency"]
        while parents.get(root):
            root = parents[root]
        procedure = self.services.call("intake", "get_procedure", dossier["procedure"])
        applicant = dossier.get("applicant") or {}
        return {"agency_names": names, "province_name": names.get(root, ""),
                "procedure_name": procedure["name"],
                "applicant": {key: applicant.get(key) or ""
                              for key in ("name", "address", "phone")}}

    def _forms(self, code: str, dossier: dict[str, Any]) -> list[dict[str, str]]:
        """The forms that exist for the dossier, each with its route, in form order.

        ``dossier`` is intake's record (its status says whether it was refused)."""
        notices = self._notices(code)
        base = f"/api/v1/dossiers/{code}"

        def entry(form: str, number: int | None = None) -> dict[str, str]:
            href = f"{base}/{ROUTES[form]}" + (f"?number={number}" if number else "")
            title = TITLES[form] + (f" (lần {number})" if number else "")
            return {"form": form, "title": title, "href": href}

        accepted = dossier.get("accepted_at") is not None
        forms = [entry("01")] if accepted else []
        requests = self._supplement_requests(code, notices)
        forms += [entry("02", number) for number in range(1, len(requests) + 1)]
        if dossier.get("status") == "refused":
            forms.append(entry("03"))
        for form in ("04", "05"):
            forms += [entry(form, n["number"]) for n in notices if n["form"] == form]
        if accepted:
            forms.append(entry("06"))
        return forms
