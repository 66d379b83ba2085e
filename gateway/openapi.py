"""The gateway's OpenAPI document (``/api/openapi.json``) and its human page (``/api/docs``).

``ROUTES`` is the one table of what the gateway documents; tests check it against the
``@api`` entrypoints of ``GatewayService`` so the document cannot drift from the routes.
Shapes come from marshmallow schemas (``motcua.contracts`` for requests,
``gateway.schemas`` for responses) through apispec's MarshmallowPlugin.

The page is rendered here, with no JavaScript or CSS from a CDN: the servers and many
officers' networks cannot reach one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from jinja2 import Environment, StrictUndefined
from marshmallow import EXCLUDE

from gateway import notifications, payments, postal, reports
from gateway.apidoc import DOSSIER_CODE, PROCEDURE_CODE, READ_ROLES, WHO_SEES_A_DOSSIER, Route
from gateway.http import REQUEST_ID_HEADER, VALID_REQUEST_ID, max_body_bytes
from gateway.schemas import (
    AgencySchema,
    AppointmentSchema,
    CalendarOverrideViewSchema,
    DossierPageSchema,
    DossierViewSchema,
    HealthSchema,
    IntakeDossierSchema,
    ProblemSchema,
    ProcedurePageSchema,
    ProcedureSchema,
    TrackSchema,
)
from motcua.contracts.catalogue import ProcedureEntrySchema
from motcua.contracts.dossiers import (
    MAX_DOCUMENTS,
    ActionSchema,
    AppointmentQuerySchema,
    CalendarOverrideSchema,
    DossierQuerySchema,
    DossierReceiptSchema,
    DossierSubmissionSchema,
    FeeSchema,
    ProcedureQuerySchema,
    SupplementSchema,
    TrackQuerySchema,
    WithdrawSchema,
)
from motcua.contracts.forms import MAX_REGISTER_DAYS, FormQuerySchema, RegisterQuerySchema

OPENAPI_VERSION = "3.0.3"
TITLE = "motcua — một cửa điện tử"
PROBLEM_TYPE = "application/problem+json"
SECURITY_SCHEME = "bearerAuth"


ERRORS: dict[int, str] = {
    400: "Malformed request: the body is not UTF-8 JSON.",
    401: "No token, or a token that is not valid or has expired.",
    403: "The token's role may not do this.",
    404: "Unknown, or not visible to this caller (the answer does not say which).",
    409: "Conflict with the current state. With Retry-After: another request with this "
         "Idempotency-Key is still running; retry after that many seconds.",
    413: "The body is over the size limit (configuration key gateway.MAX_BODY_BYTES).",
    422: "Invalid input: `errors` names each field that is wrong and why.",
    429: "Too many requests: wait the number of seconds in Retry-After, then retry.",
    503: "A service, the broker or a database needed for the answer is unreachable or did "
         "not answer in time: retry after Retry-After seconds (with the same "
         "Idempotency-Key, the retry cannot do the change twice).",
}

TAGS = [
    {"name": "system", "description": "Health and this documentation."},
    {"name": "catalogue", "description": "Danh mục: agencies (cơ quan), procedures (thủ tục) "
                                         "and the appointment a procedure gets."},
    {"name": "calendar", "description": "Lịch làm việc: days declared working or not."},
    {"name": "dossiers", "description": "Hồ sơ: submitting, deciding on, changing, reading "
                                        "and tracking dossiers."},
    {"name": "payments", "description": "Lệ phí: the fee payment of a dossier."},
    {"name": "notifications", "description": "Thông báo: messages sent about a dossier."},
    {"name": "postal", "description": "Bưu chính công ích: the operators' jobs (Decision "
                                      "45/2016/QĐ-TTg)."},
    {"name": "reports", "description": "Báo cáo, thống kê: the figures provinces report."},
]


AGENCY_CODE = {"agency": "Mã cơ quan (the receiving agency), e.g. 000.00.15.H56."}
REGISTER_PERIOD = {
    "from": "The first day, YYYY-MM-DD, e.g. 2026-11-01 (local days, Asia/Ho_Chi_Minh).",
    "to": f"The last day, included, e.g. 2026-11-30; at most {MAX_REGISTER_DAYS} days "
          "after from.",
}
WHO_READS_A_REGISTER = ("For officers of the agency or of an agency above it, and "
                        "admins.")
REGISTER_ERRORS = (401, 403, 404, 422, 429, 503)
REGISTER_ERROR_NOTES = {
    403: "Not a role that reads registers, or an officer of an agency outside the tree "
         "above this one.",
    404: "No agency with this code.",
    422: f"`from` or `to` missing or not a date, `to` before `from`, or a period longer "
         f"than {MAX_REGISTER_DAYS} days.",
}
FORM_NUMBER = {"number": "Which one, from 1 in the order issued, e.g. 1; absent: the "
                          "latest."}

SAMPLE_SUBMISSION = {
    "procedure": "2.000635", "agency": "000.00.15.H56", "channel": "online",
    "applicant": {"name": "Hoàng Văn Lai", "id_number": "038085001234",
                  "phone": "0912345678", "email": "lai@example.vn",
                  "address": "Thôn Trần Phú, xã Minh Xuân"},
    "summary": "Xin cấp bản sao trích lục khai sinh",
    "documents": [{"code": "TK01", "filename": "tờ-khai.pdf",
                   "content_type": "application/pdf",
                   "content_base64": "JVBERi0xLjQgdGVzdAolJUVPRgo="}],
    "delivery": {"method": "postal", "address": "Thôn Trần Phú, xã Minh Xuân"},
    "pickup": {"address": "Thôn Trần Phú, xã Minh Xuân"},
}

SAMPLE_PROCEDURE = {
    "code": "2.000635", "name": "Cấp bản sao trích lục hộ tịch", "field": "Hộ tịch",
    "level": "department", "agencies": ["000.00.15.H56"], "online_level": "full",
    "sla": {"kind": "working_days", "amount": 1},
    "fee": {"amount": 8000, "collect_at": "intake"}, "result_by_post": True,
    "documents": [{"code": "TK01", "name": "Tờ khai", "required": True},
                  {"code": "UQ", "name": "Văn bản ủy quyền", "required": False}],
}
SAMPLE_ACTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "accept": ("accept: tiếp nhận (intake)", {"action": "accept"}),
    "accept_with_papers_by_post": (
        "accept the paper dossier the post brought: the components found in the parcel",
        {"action": "accept", "papers": ["TK01", "UQ"],
         "note": "Bưu điện đã chuyển hồ sơ giấy, đủ thành phần"}),
    "refuse": ("refuse: không tiếp nhận, form 03 (intake)",
               {"action": "refuse", "reason": "Thiếu văn bản ủy quyền của người nộp."}),
    "take": ("take: nhận xử lý at the current step", {"action": "take"}),
    "forward": ("forward: chuyển to the route's next step",
                {"action": "forward", "to_agency": "000.00.21.H56",
                 "note": "Chuyển Công an tỉnh đăng ký thường trú"}),
    "send_back": ("send_back: trả lại the previous step",
                  {"action": "send_back", "note": "Chưa ghi nơi đăng ký khai sinh"}),
    "request_supplement": ("request_supplement: yêu cầu bổ sung, form 02",
                           {"action": "request_supplement",
                            "missing": ["Văn bản ủy quyền có chứng thực"],
                            "note": "Bản ủy quyền đã nộp chưa được chứng thực"}),
    "request_payment": ("request_payment: yêu cầu nộp phí, lệ phí",
                        {"action": "request_payment", "amount": 50000,
                         "reason": "Phí thẩm định"}),
    "request_payment_with_fee_basis": (
        "request_payment by the units the officer counted: the procedure's fee rule makes "
        "the amount (2.000815: 5 pages in 2 copies are 14,000 VND)",
        {"action": "request_payment", "fee_basis": {"units": {"page": 5, "copy": 2}},
         "reason": "Chứng thực thêm 2 bản sao"}),
    "resolve": ("resolve: có kết quả",
                {"action": "resolve", "results": [
                    {"name": "Bản sao trích lục khai sinh", "reference": "123/TLKS-BS"}]}),
    "resolve_with_documents": (
        "resolve with the result documents themselves (kept by intake, downloadable)",
        {"action": "resolve", "documents": [
            {"code": "KQ01", "filename": "trich-luc-khai-sinh.pdf",
             "content_type": "application/pdf",
             "content_base64": "JVBERi0xLjQKJSBrcQolJUVPRgo="}]}),
    "return": ("return: trả kết quả", {"action": "return"}),
    "extend": ("extend: xin lỗi và hẹn lại, form 04",
               {"action": "extend", "reason": "Chờ xác minh thông tin cư trú",
                "new_due_at": "2026-12-04T17:00:00+07:00"}),
    "stop": ("stop: dừng giải quyết, form 05",
             {"action": "stop", "reason": "Hồ sơ thuộc thẩm quyền của cơ quan khác."}),
}
SAMPLE_SUPPLEMENT = {
    "documents": [{"code": "UQ", "filename": "ủy-quyền.pdf",
                   "content_type": "application/pdf",
                   "content_base64": "JVBERi0xLjQgdGVzdAolJUVPRgo="}],
    "note": "Bổ sung văn bản ủy quyền",
}
SAMPLE_WITHDRAW = {"reason": "Đã nộp nhầm thủ tục."}
SAMPLE_OVERRIDE = {"working": False, "note": "Nghỉ bù Quốc khánh"}

ACT_DESCRIPTION = """\
The action goes to the dossier's owner of the moment, and the answer is the dossier as \
GET /api/v1/dossiers/{code} composes it.

While the dossier is submitted (1), or awaiting a supplement asked at reception (5), \
intake decides:
- `accept` (tiếp nhận): the appointment is counted from now by the agency's calendar. \
A dossier whose paper dossier the citizen asked the post to collect (`pickup`) waits for \
it: until the post has brought it, the dossier says `waiting_for: pickup`, its \
`allowed_actions` have no `accept`, and an `accept` is a 409 with `waiting_for: pickup` \
(unless the province turned `intake.PICKUP_BEFORE_ACCEPTANCE` off; once the post gives \
the pickup up, the citizen brings the papers and the desk accepts as usual). Papers the \
post brought are checked: `papers` (required then, optional otherwise) lists the codes \
of the procedure's components (`documents` of GET /api/v1/procedures/{code}) found in \
the parcel; a code the procedure does not have, or a required component missing, is a \
422 naming it under `papers` (request a supplement or refuse instead);
- `refuse` (không tiếp nhận, form 03): `reason` (required) is told to the citizen;
- `request_supplement` (form 02 at reception): `missing` (required) without accepting it; \
the citizen's supplement brings it back to 1.

Once accepted, processing (xử lý) runs it along the procedure's route (liên thông), each \
step by officers of the agency that holds it (`current_agency`):
- `take` (nhận xử lý): the step's officer takes it. Optional: `forward`, \
`request_supplement`, `request_payment` or `resolve` on an accepted dossier take it first \
(the history shows both moves);
- `forward` (chuyển): to the route's next step; `to_agency` (optional) must be that \
step's agency (else 422); at the last step, resolve instead (409);
- `send_back` (trả lại): to the previous step;
- `request_supplement` (yêu cầu bổ sung, form 02): `missing` (required): a non-empty \
list of what is missing, each a non-empty string of at most 500 characters; the clock \
stops until the citizen supplements;
- `request_payment` (yêu cầu nộp phí): `amount`: VND, a positive integer, or \
`fee_basis` (exactly one of them): the units the officer counted, `{units: {page: 5, \
copy: 2}, category}` as in a submission, from which the procedure's fee rule computes \
the amount (tiers, cap, online reduction, exempt `category`); the computation (lines, \
units, rates, reduction, total) is then on the payment (GET \
/api/v1/dossiers/{code}/payment). `reason`: what it is for;
- `resolve` (có kết quả): the result documents, as `documents` (each like a \
submission's: `code`, `filename`, `content_type`, `content_base64`; kept by intake and \
downloadable at GET /api/v1/dossiers/{code}/results/{n}) and/or `results`, a list of \
{`name` (required), `reference`}; when the fee is collected with the result, the dossier \
then waits for it. The result comes back to the receiving desk, whose officers return it;
- `return` (trả kết quả): handed over at the counter or online, or to the post (then \
returned when the post reports delivery);
- `extend` (xin lỗi và hẹn lại, form 04): `reason` (required) and `new_due_at` \
(required): ISO 8601 with its offset, later than the current appointment; once per \
dossier, and at least one working day before the appointment (else 409);
- `stop` (dừng giải quyết, form 05): `reason` (required).

Every action takes an optional `note`, kept in the dossier's `history`. The fields an \
action reads are sent beside `action` (the body is open); others are ignored.

An action the dossier's state does not allow is a 409 whose `allowed_actions` lists \
those it does; the dossier's `allowed_actions` is exact beforehand (`extend` is gone once \
used, `forward` at the last step, `send_back` at the first). `accept` or `refuse` on an \
accepted dossier is answered by processing's table; in the moment between acceptance and \
processing opening the case, any action is a 409 with Retry-After: 1. Officers act on \
dossiers of their agency and the agencies under it, and on those whose route passes \
through them; others are a 404. A dossier held at another agency's step is a 403."""

CORE_ROUTES: tuple[Route, ...] = (
    Route(
        "GET", "/healthz", "health", "Health of every service",
        "Asks every service for its health within a short deadline "
        "(gateway.HEALTH_TIMEOUT_SECONDS). For load balancers and monitoring.",
        "system", HealthSchema, "Every service answered.",
        also={503: "At least one service did not answer; `detail` names them."}),
    Route(
        "GET", "/api/openapi.json", "openapi", "This OpenAPI document",
        "The machine-readable contract of the gateway (OpenAPI 3.0.3).",
        "system", {"type": "object", "description": "An OpenAPI 3.0.3 document."},
        "The document."),
    Route(
        "GET", "/api/docs", "docs", "This documentation as a web page",
        "The same document rendered for people (hướng dẫn tích hợp); needs no internet "
        "access to display.",
        "system", {"type": "string"}, "An HTML page.", content_type="text/html"),
    Route(
        "GET", "/api/v1/agencies", "listAgencies", "List agencies (danh sách cơ quan)",
        "Every agency of the tree (tỉnh, sở, xã, ...) with its parent. Public: no token.",
        "catalogue", {"type": "array", "items": AgencySchema}, "The agencies.",
        errors=(429, 503)),
    Route(
        "GET", "/api/v1/procedures", "listProcedures", "List procedures (danh mục thủ tục)",
        "Procedures of the catalogue by code, matching `q` (part of the name, with or "
        "without diacritics, or the start of the code) and received by `agency`, one page "
        "at a time. Public: no token.",
        "catalogue", ProcedurePageSchema, "One page of the procedures that match.",
        query=ProcedureQuerySchema, query_notes={
            "q": "Words of the name (khai sinh matches Khai sinh) or the start of the code.",
            "agency": "Only procedures this agency receives, e.g. 000.00.15.H56.",
            "page": "The page, from 1.",
            "per_page": "Procedures per page.",
        },
        errors=(404, 422, 429, 503),
        error_notes={404: "`agency` names no agency.",
                     422: "A query parameter is not valid; `errors` names it."}),
    Route(
        "GET", "/api/v1/procedures/<string:code>", "getProcedure",
        "Read a procedure (thủ tục)",
        "The procedure: its time allowed (sla), fee, components (thành phần hồ sơ), "
        "inter-agency route and who receives it. Public: no token.",
        "catalogue", ProcedureSchema, "The procedure.", path_params=PROCEDURE_CODE,
        errors=(404, 429, 503)),
    Route(
        "PUT", "/api/v1/procedures/<string:code>", "putProcedure",
        "Create or replace a procedure (admin)",
        "Replaces the whole procedure (fields not sent take their defaults), or creates "
        "it. The body's `code` must be the path's. Dossiers already accepted keep the "
        "appointment they were given.",
        "catalogue", ProcedureSchema, "Replaced: the procedure as stored.", roles=("admin",),
        path_params=PROCEDURE_CODE, body=ProcedureEntrySchema, body_example=SAMPLE_PROCEDURE,
        also={201: "Created: the procedure as stored."},
        errors=(400, 401, 403, 413, 422, 429, 503),
        error_notes={422: "Invalid fields, a `code` that is not the path's, or unknown "
                          "agencies; `errors` names each field."}),
    Route(
        "GET", "/api/v1/procedures/<string:code>/appointment", "getAppointment",
        "The appointment a dossier would get (ngày hẹn trả)",
        "What a dossier of this procedure received at `received_at` by `agency` would be "
        "promised: the same computation as acceptance (the agency's working hours, "
        "holidays and the days declared under /api/v1/calendar/overrides). Without "
        "`agency`, the first agency that receives the procedure. Days off and make-up "
        "Saturdays come from the official notices (motcua/holidays_vn.yaml) over the "
        "`holidays` package, and the overrides over both; `estimated` is true when a day "
        "up to `due_at` rests on no notice (e.g. a year not announced yet). Public: no "
        "token.",
        "catalogue", AppointmentSchema, "The appointment.", path_params=PROCEDURE_CODE,
        query=AppointmentQuerySchema, query_notes={
            "agency": "The receiving agency, e.g. 000.00.15.H56.",
            "received_at": "When the dossier is received: ISO 8601 with its offset, e.g. "
                           "2026-11-23T09:00:00+07:00 (in a URL, + is %2B).",
        },
        errors=(404, 422, 429, 503),
        error_notes={
            404: "Unknown procedure or agency, or no agency receives the procedure.",
            422: "`received_at` missing or without an offset, a malformed `agency`, or an "
                 "agency that does not receive the procedure; `errors` names the field.",
        }),
    Route(
        "GET", "/api/v1/calendar/overrides", "listCalendarOverrides",
        "Days declared working or not (lịch làm việc)",
        "Days that differ from the usual calendar (a holiday moved, a Saturday worked), "
        "oldest first. Public: no token.",
        "calendar", {"type": "array", "items": CalendarOverrideViewSchema}, "The days.",
        errors=(429, 503)),
    Route(
        "PUT", "/api/v1/calendar/overrides/<string:day>", "setCalendarOverride",
        "Declare a day working or not (admin)",
        "For an announcement newer than the installed calendar and its notices table "
        "(it wins over both): `working` true makes the "
        "day a working day, false a day off, null removes the override. Applies to "
        "appointments computed from now on.",
        "calendar", CalendarOverrideViewSchema, "The day as it now stands.",
        roles=("admin",), path_params={"day": "The day, YYYY-MM-DD."},
        body=CalendarOverrideSchema, body_example=SAMPLE_OVERRIDE,
        errors=(400, 401, 403, 413, 422, 429, 503),
        error_notes={422: "Invalid fields, or a `day` that is not YYYY-MM-DD; `errors` "
                          "names each."}),
    Route(
        "POST", "/api/v1/dossiers", "submitDossier", "Submit a dossier (nộp hồ sơ)",
        "A citizen submits online or for postal pickup; an officer at the one-stop desk "
        "(bộ phận một cửa) enters a counter dossier, which is accepted at once (national "
        f"status 2) and gets its appointment. At most {MAX_DOCUMENTS} documents, each "
        "base64 in `content_base64`; each decoded document at most intake."
        "MAX_DOCUMENT_BYTES (default 10 MiB). Send an Idempotency-Key to retry safely.",
        "dossiers", DossierReceiptSchema, "Received: the receipt (giấy tiếp nhận).",
        roles=("citizen", "officer"), body=DossierSubmissionSchema,
        body_example=SAMPLE_SUBMISSION, idempotency_key=True, status=201,
        response_headers=("Location",), errors=(400, 401, 403, 409, 413, 422, 429, 503),
        error_notes={
            403: "The role may not submit, or a citizen tried the counter channel.",
            409: "This Idempotency-Key was used before with another body.",
            422: "Invalid fields, an unknown procedure, a channel the procedure does not "
                 "allow, or a document over the size limit; `errors` names each field.",
        }),
    Route(
        "GET", "/api/v1/dossiers", "listDossiers", "An agency's queue of dossiers",
        "The dossiers whose current step is at the officer's agency or an agency under it "
        "(an admin: every agency), soonest due first, one page at a time. Dossiers waiting "
        "for acceptance are listed too (status submitted), at the receiving agency.",
        "dossiers", DossierPageSchema, "One page of the dossiers that match.",
        roles=("officer", "admin"), query=DossierQuerySchema, query_notes={
            "agency": "Only dossiers held now by this agency, e.g. 000.00.15.H56; an "
                      "officer's must be its agency or one under it.",
            "status": "Only this status, e.g. in_progress or awaiting_supplement (see the "
                      "dossier's `status`).",
            "overdue": "true: only those past their appointment (quá hạn); false: only "
                       "the others; absent: both.",
            "page": "The page, from 1.",
            "per_page": "Dossiers per page.",
        },
        errors=(401, 403, 422, 429, 503),
        error_notes={403: "The role may not list dossiers, or `agency` is outside the "
                          "officer's agency and those under it.",
                     422: "A query parameter is not valid; `errors` names it."}),
    Route(
        "GET", "/api/v1/dossiers/<string:code>", "getDossier", "Read a dossier (tra cứu hồ sơ)",
        "The dossier as its owners see it: intake's record (applicant, documents, "
        "delivery), processing's status, appointment, route steps (liên thông) and history, "
        "the fee payment and the postal jobs. Processing's part appears a moment after "
        "acceptance (until then `steps` and `history` are empty and its other fields "
        f"absent). {WHO_SEES_A_DOSSIER}",
        "dossiers", DossierViewSchema, "The dossier.", roles=READ_ROLES,
        path_params=DOSSIER_CODE, errors=(401, 403, 404, 429, 503)),
    Route(
        "POST", "/api/v1/dossiers/<string:code>/actions", "actOnDossier",
        "An officer's action on a dossier (tiếp nhận, xử lý, trả kết quả)",
        ACT_DESCRIPTION,
        "dossiers", DossierViewSchema, "Done: the dossier, as GET /api/v1/dossiers/{code} "
        "answers it.",
        roles=("officer",), path_params=DOSSIER_CODE, body=ActionSchema,
        body_examples=SAMPLE_ACTIONS, errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={
            403: "The role may not act, or the dossier is held at another agency's step of "
                 "its route: only that agency's officers act on it now.",
            404: "Unknown dossier, not visible to this officer, or not yet known to "
                 "processing (a moment after acceptance).",
            409: "The dossier's state does not allow this action; `allowed_actions` lists "
                 "the actions it allows (for `forward` at the last step: resolve; for "
                 "`extend`: extended already, or less than a working day left).",
            422: "Invalid fields (an unknown action), or an action without what it needs: "
                 "`reason` (refuse, extend, stop), `missing` (request_supplement), "
                 "`amount` or `fee_basis` (request_payment: one of them; `fee_basis` only "
                 "for a procedure whose fee is counted by unit, with the unit it counts, "
                 "making a fee to pay), `results` (resolve), `new_due_at` (extend), "
                 "or a `to_agency` that is not the next step's; `errors` names each.",
        }),
    Route(
        "POST", "/api/v1/dossiers/<string:code>/supplements", "supplementDossier",
        "Add documents to a dossier (bổ sung hồ sơ)",
        "Documents that answer a supplement request (form 02): taken only while one is "
        "awaited, national status 5 (asked at reception, before acceptance, or during "
        "processing, which the clock waits for); they are marked `supplement: true`. The "
        "citizen sends them, or an officer of the receiving desk on the citizen's behalf "
        f"(recorded as such). At most {MAX_DOCUMENTS} documents, each checked like those "
        "of a submission. Send an Idempotency-Key to retry safely.",
        "dossiers", IntakeDossierSchema, "Added: the dossier (intake's record).",
        roles=("citizen", "officer"), path_params=DOSSIER_CODE, body=SupplementSchema,
        body_example=SAMPLE_SUPPLEMENT, idempotency_key=True, status=201,
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={
            404: "Unknown dossier, or not the caller's.",
            409: "No supplement was requested (the dossier is not at national status 5), "
                 "or this Idempotency-Key was used before with another body.",
            422: "Invalid fields, a document that is not a component of the procedure, of "
                 "a type not accepted or over the size limit; `errors` names each.",
        }),
    Route(
        "POST", "/api/v1/dossiers/<string:code>/withdraw", "withdrawDossier",
        "Withdraw a dossier (rút hồ sơ)",
        "The citizen withdraws its dossier (national status 7), or an officer of the "
        "receiving desk does so on the citizen's behalf (recorded as such). Before "
        "acceptance intake decides; from acceptance on, processing's table does, and a "
        "dossier whose result exists (national status 9 or 10, or a result awaiting its "
        "fee) can no longer be withdrawn. The body is optional (no body is the same as {}).",
        "dossiers", DossierViewSchema, "Withdrawn: the dossier after the change, as GET "
        "/api/v1/dossiers/{code} answers it.",
        roles=("citizen", "officer"), path_params=DOSSIER_CODE, body=WithdrawSchema,
        body_example=SAMPLE_WITHDRAW, body_required=False,
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={
            404: "Unknown dossier, or not the caller's.",
            403: "An officer of another agency than the receiving desk.",
            409: "The dossier can no longer be withdrawn (`allowed_actions` is empty).",
        }),
    Route(
        "GET", "/api/v1/dossiers/<string:code>/results/<int:number>", "getResultDocument",
        "A result document (kết quả giải quyết)",
        "A document an officer attached when resolving the dossier (`resolve` with "
        "`documents`), numbered from 1 in the order they were attached; the dossier's "
        f"`results` list their references. {WHO_SEES_A_DOSSIER}",
        "dossiers", {"type": "string", "format": "binary"},
        "The document, with its own content type.", roles=READ_ROLES,
        path_params={**DOSSIER_CODE, "number": "The result document's number (1, 2, ...)."},
        content_type="application/octet-stream", response_headers=("Content-Disposition",),
        errors=(401, 403, 404, 429, 503),
        error_notes={404: "Unknown dossier, not visible to this caller, or no such result "
                          "document."}),
    Route(
        "GET", "/api/v1/dossiers/<string:code>/receipt.pdf", "getDossierReceipt",
        "The receipt and appointment (giấy tiếp nhận, form 01) as a PDF",
        "Issued once the dossier is accepted, with a QR code of its tracking page "
        f"(/track/{{code}} on MOTCUA_PUBLIC_URL). {WHO_SEES_A_DOSSIER}",
        "dossiers", {"type": "string", "format": "binary"}, "The PDF.", roles=READ_ROLES,
        path_params=DOSSIER_CODE, content_type="application/pdf",
        response_headers=("Content-Disposition",), errors=(401, 403, 404, 409, 429, 503),
        error_notes={409: "The dossier has not been accepted (or was refused): form 01 "
                          "is issued on acceptance."}),
    Route(
        "GET", "/api/v1/dossiers/<string:code>/control-slip.pdf", "getDossierControlSlip",
        "The process control slip (phiếu kiểm soát quá trình giải quyết hồ sơ, form 06) "
        "as a PDF",
        "Each hand-over of the dossier along its route: who gave it, who received it and "
        "when, each step's due time, when it was done and whether on time. For officers "
        "(of the agencies that see the dossier) and admins.",
        "dossiers", {"type": "string", "format": "binary"}, "The PDF.",
        roles=("officer", "admin"), path_params=DOSSIER_CODE, content_type="application/pdf",
        response_headers=("Content-Disposition",), errors=(401, 403, 404, 429, 503),
        error_notes={404: "Unknown dossier, not visible to this officer, or not accepted "
                          "yet (form 06 starts at acceptance)."}),
    Route(
        "GET", "/api/v1/dossiers/<string:code>/supplement-request.pdf",
        "getDossierSupplementRequest",
        "The supplement request (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ, form 02) as a PDF",
        "What the dossier lacks and by when, as the desk asked at reception or processing "
        "asked later; the latest, or `?number=1` for the first (the dossier's `forms` "
        f"lists each one). {WHO_SEES_A_DOSSIER}",
        "dossiers", {"type": "string", "format": "binary"}, "The PDF.", roles=READ_ROLES,
        path_params=DOSSIER_CODE, query=FormQuerySchema, query_notes=FORM_NUMBER,
        content_type="application/pdf", response_headers=("Content-Disposition",),
        errors=(401, 403, 404, 422, 429, 503),
        error_notes={404: "Unknown or invisible dossier, or no supplement request (with "
                          "that number) was issued for it."}),
    Route(
        "GET", "/api/v1/dossiers/<string:code>/refusal.pdf", "getDossierRefusal",
        "The refusal (phiếu từ chối tiếp nhận giải quyết hồ sơ, form 03) as a PDF",
        f"Why the desk refused the dossier (`refuse`). {WHO_SEES_A_DOSSIER}",
        "dossiers", {"type": "string", "format": "binary"}, "The PDF.", roles=READ_ROLES,
        path_params=DOSSIER_CODE, content_type="application/pdf",
        response_headers=("Content-Disposition",), errors=(401, 403, 404, 429, 503),
        error_notes={404: "Unknown or invisible dossier, or a dossier that was not "
                          "refused."}),
    Route(
        "GET", "/api/v1/dossiers/<string:code>/apology.pdf", "getDossierApology",
        "The apology and new appointment (phiếu xin lỗi và hẹn lại ngày trả kết quả, "
        "form 04) as a PDF",
        "Issued with `extend`: the reason, the original and the new appointment, and the "
        f"agency's apology; e.g. `?number=1`. {WHO_SEES_A_DOSSIER}",
        "dossiers", {"type": "string", "format": "binary"}, "The PDF.", roles=READ_ROLES,
        path_params=DOSSIER_CODE, query=FormQuerySchema, query_notes=FORM_NUMBER,
        content_type="application/pdf", response_headers=("Content-Disposition",),
        errors=(401, 403, 404, 422, 429, 503),
        error_notes={404: "Unknown or invisible dossier, or it was not extended."}),
    Route(
        "GET", "/api/v1/dossiers/<string:code>/stop-notice.pdf", "getDossierStopNotice",
        "The stop notice (phiếu dừng giải quyết hồ sơ, form 05) as a PDF",
        f"Issued with `stop`: why processing stopped; e.g. `?number=1`. {WHO_SEES_A_DOSSIER}",
        "dossiers", {"type": "string", "format": "binary"}, "The PDF.", roles=READ_ROLES,
        path_params=DOSSIER_CODE, query=FormQuerySchema, query_notes=FORM_NUMBER,
        content_type="application/pdf", response_headers=("Content-Disposition",),
        errors=(401, 403, 404, 422, 429, 503),
        error_notes={404: "Unknown or invisible dossier, or it was not stopped."}),
    Route(
        "GET", "/api/v1/registers/<string:agency>.pdf", "getRegisterPdf",
        "The register of dossiers received (sổ theo dõi hồ sơ, form 07) as a PDF",
        "One row per dossier the agency received in the period, in the order received: "
        "its code, procedure, applicant, contact, when it was received, the appointment, "
        "its status now and notes (channel, reason for a refusal). E.g. "
        "`/api/v1/registers/000.00.15.H56.pdf?from=2026-11-01&to=2026-11-30`. "
        f"{WHO_READS_A_REGISTER}",
        "dossiers", {"type": "string", "format": "binary"}, "The PDF (A4 landscape).",
        roles=("officer", "admin"), path_params=AGENCY_CODE, query=RegisterQuerySchema,
        query_notes=REGISTER_PERIOD, content_type="application/pdf",
        response_headers=("Content-Disposition",), errors=REGISTER_ERRORS,
        error_notes=REGISTER_ERROR_NOTES),
    Route(
        "GET", "/api/v1/registers/<string:agency>.csv", "getRegisterCsv",
        "The register of dossiers received (sổ theo dõi hồ sơ, form 07) as CSV",
        "The same rows as the PDF, UTF-8 with a BOM, one header line, times in ISO 8601 "
        "(Asia/Ho_Chi_Minh), the national status as its code and its name. E.g. "
        "`/api/v1/registers/000.00.15.H56.csv?from=2026-11-01&to=2026-11-30`. "
        f"{WHO_READS_A_REGISTER}",
        "dossiers", {"type": "string"}, "The CSV.",
        roles=("officer", "admin"), path_params=AGENCY_CODE, query=RegisterQuerySchema,
        query_notes=REGISTER_PERIOD, content_type="text/csv",
        response_headers=("Content-Disposition",), errors=REGISTER_ERRORS,
        error_notes=REGISTER_ERROR_NOTES),
    Route(
        "GET", "/track/<string:code>", "trackingPage",
        "The tracking page (tra cứu hồ sơ) for people, where form 01's QR code leads",
        "A small self-contained HTML page (no outside scripts, styles or fonts) that asks "
        "for the applicant's phone number, then shows the status, the appointment and the "
        "delivery by asking /api/v1/track/{code} from its own script. Form 01 prints "
        "this address on the configured public URL (MOTCUA_PUBLIC_URL), e.g. "
        "https://dichvucong.thanhhoa.gov.vn/track/000.00.15.H56-261123-0001. Public: no "
        "token.",
        "dossiers", {"type": "string"}, "The page (it answers for any code: the phone "
        "number decides what it shows).", path_params=DOSSIER_CODE,
        content_type="text/html", errors=(429, 503)),
    Route(
        "GET", "/api/v1/track/<string:code>", "trackDossier",
        "Track a dossier without an account (tra cứu)",
        "The applicant's phone number proves the interest; the answer has the status, "
        "the appointment and the delivery, and nothing personal. Public: no token.",
        "dossiers", TrackSchema, "Where the dossier is.", path_params=DOSSIER_CODE,
        query=TrackQuerySchema, query_notes={
            "phone": "The applicant's phone number as given in the submission, "
                     "e.g. 0912345678.",
        },
        errors=(404, 422, 429, 503),
        error_notes={404: "No dossier with this code and phone number (the answer does "
                          "not say which is wrong).",
                     422: "`phone` missing or not a Vietnamese mobile number."}),
)


ROUTES: tuple[Route, ...] = CORE_ROUTES + payments.DOCUMENTED + postal.DOCUMENTED \
    + notifications.DOCUMENTED + reports.DOCUMENTED


def documented_routes() -> set[tuple[str, str]]:
    """The (METHOD, werkzeug rule) pairs the document covers."""
    return {(route.method, route.rule) for route in ROUTES}


# -- building the document -------------------------------------------------------------------

RULE_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"}, "path": {"type": "string"}, "any": {"type": "string"},
    "int": {"type": "integer"}, "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}


def openapi_path(rule: str) -> str:
    """``/a/<string:code>`` → ``/a/{code}``."""
    return RULE_VARIABLE.sub(lambda match: "{" + match["name"] + "}", rule)


def rule_variables(rule: str) -> dict[str, str]:
    """A rule's variables and their converters, in order."""
    return {m["name"]: m["converter"] or "string" for m in RULE_VARIABLE.finditer(rule)}


def _version() -> str:
    try:
        return version("motcua")
    except PackageNotFoundError:
        return "0.0.0"


def _overview() -> str:
    limit = max_body_bytes()
    return "\n\n".join([
        "The HTTP interface of the province's electronic one-stop shop (một cửa điện tử): "
        "submitting and following administrative dossiers (hồ sơ thủ tục hành chính).",
        "JSON in UTF-8: Vietnamese text round-trips unchanged. Times are ISO 8601 with an "
        "offset (+07:00). Money is integer VND.",
        "Authentication: `Authorization: Bearer <JWT>`, HS256-signed with the configured "
        "secret. Claims: `sub` (who), `role` (citizen, officer, admin or postal), `agency` "
        "(officers: the agency they work for; they may act on it and the agencies under "
        "it), `operator` (postal: the operator's id), `exp` (required).",
        "Errors are `application/problem+json` with `type`, `title`, `status`, `detail`, "
        "and for 422 `errors: {field: [messages]}`; never a stack trace. Unknown paths are "
        "404 and wrong methods 405, as problems too.",
        f"Limits: a request body is at most {limit} bytes (configuration key "
        f"gateway.MAX_BODY_BYTES, default 20 MiB), else 413 before it is read; a dossier "
        f"has at most {MAX_DOCUMENTS} documents. Too many requests are answered 429 with "
        "Retry-After.",
        f"Every response carries {REQUEST_ID_HEADER}: the caller's, if it sent a valid one, "
        "else a new one. Quote it when reporting a problem.",
        "POSTs that create something accept `Idempotency-Key`: the same key with the same "
        "body returns the first response; with another body, 409.",
    ])


def _register_components(spec: APISpec) -> None:
    spec.components.security_scheme(SECURITY_SCHEME, {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "HS256-signed JWT with claims sub, role (citizen, officer, admin, "
                       "postal), agency (officers), operator (postal), exp. exp is "
                       "required, a number (seconds since 1970), at most "
                       "MOTCUA_JWT_MAX_LIFETIME_HOURS (12 by default) from now. iss is "
                       "checked only when the deployment sets MOTCUA_JWT_ISSUER: then it "
                       "is required and must equal it; otherwise it is not looked at. "
                       "`motcua token --role officer --agency 000.00.15.H56 --sub cb01` "
                       "prints one.",
    })
    spec.components.parameter("RequestId", "header", {
        "name": REQUEST_ID_HEADER, "required": False,
        "description": "Your id for this request, echoed back and logged; one is made "
                       "if absent or not matching the pattern.",
        "schema": {"type": "string", "pattern": VALID_REQUEST_ID.pattern},
    })
    spec.components.parameter("IdempotencyKey", "header", {
        "name": "Idempotency-Key", "required": False,
        "description": "Retry safely (every POST): the same key with the same body returns "
                       "the first response; with another body, 409; while a request with "
                       "it is still running, 409 with Retry-After. The service that makes "
                       "the change keeps the key with it, so a retry after any failure "
                       "(a 503, a timeout, a lost connection) is safe. Keys are per caller "
                       "and kept 24 h.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                   "pattern": "^[\\x21-\\x7e]+$"},
        "example": "3f0c2a9e-5b7d-4e1a-9c4b-portal-0001",
    })
    spec.components.header("RequestId", {
        "description": "The request's id (yours if valid, else generated).",
        "schema": {"type": "string"},
    })
    spec.components.header("RetryAfter", {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    })
    spec.components.header("Location", {
        "description": "The URL of what was created.", "schema": {"type": "string"},
    })
    spec.components.header("ContentDisposition", {
        "description": "inline, with a file name: {code}.pdf (form 01), "
                       "{code}-phieu-yeu-cau-bo-sung.pdf (02), {code}-phieu-tu-choi.pdf "
                       "(03), {code}-phieu-xin-loi-hen-lai.pdf (04), "
                       "{code}-phieu-dung-giai-quyet.pdf (05), "
                       "{code}-phieu-kiem-soat.pdf (06).",
        "schema": {"type": "string"},
    })
    # Reused contract schemas keep marshmallow's default (unknown = RAISE), which apispec
    # would publish as additionalProperties: false; responses may gain fields, so register
    # open instances under the names their nested references resolve to.
    spec.components.schema("Fee", schema=FeeSchema(unknown=EXCLUDE))
    spec.components.schema("DossierReceipt", schema=DossierReceiptSchema(unknown=EXCLUDE))


def _response_headers(*names: str) -> dict[str, str]:
    return {REQUEST_ID_HEADER: "RequestId"} | {
        name: name.replace("-", "") for name in names}


def _query_parameters(route: Route, converter: OpenAPIConverter) -> list[dict[str, Any]]:
    """One parameter per field of the route's query schema, typed by the contract itself."""
    query_fields = route.query().fields if route.query is not None else {}
    names = {f.data_key or name: f for name, f in query_fields.items()}
    if set(names) != set(route.query_notes):
        raise ValueError(f"{route.method} {route.rule}: describe exactly the query "
                         f"parameters {sorted(names)}")
    parameters = []
    for name in route.query_notes:  # in the order the route describes them
        query_field = names[name]
        schema = converter.field2property(query_field)
        schema.pop("nullable", None)  # load_default=None: the parameter is simply absent
        if schema.get("default", "") is None:
            del schema["default"]
        parameters.append({"in": "query", "name": name, "required": query_field.required,
                           "description": route.query_notes[name], "schema": schema})
    return parameters


def _operation(route: Route, converter: OpenAPIConverter) -> dict[str, Any]:
    variables = rule_variables(route.rule)
    if set(variables) != set(route.path_params):
        raise ValueError(f"{route.method} {route.rule}: describe exactly the path "
                         f"parameters {sorted(variables)}")
    parameters: list[Any] = [
        {"in": "path", "name": name, "required": True, "description": route.path_params[name],
         "schema": dict(CONVERTER_SCHEMAS.get(kind, {"type": "string"}))}
        for name, kind in variables.items()]
    parameters += _query_parameters(route, converter)
    parameters.append("RequestId")
    if route.idempotency_key or route.method == "POST":
        parameters.append("IdempotencyKey")

    def success(description: str, *headers: str) -> dict[str, Any]:
        return {"description": description, "headers": _response_headers(*headers),
                "content": {route.content_type: {"schema": route.response}}}

    responses = {str(route.status): success(route.response_description,
                                            *route.response_headers)}
    for status, description in route.also.items():
        responses[str(status)] = success(description)
    for status in route.errors:
        responses[str(status)] = {
            "description": route.error_notes.get(status, ERRORS[status]),
            "headers": _response_headers(*(("Retry-After",) if status in (409, 429, 503)
                                           else ())),
            "content": {PROBLEM_TYPE: {"schema": ProblemSchema}},
        }

    operation: dict[str, Any] = {
        "operationId": route.operation_id, "summary": route.summary,
        "description": route.description, "tags": [route.tag], "parameters": parameters,
        "responses": responses, "x-roles": list(route.roles),
        "security": [{SECURITY_SCHEME: []}] if route.roles else [],
    }
    if route.body is not None:
        content: dict[str, Any] = {"schema": route.body}
        if route.body_examples:
            content["examples"] = {name: {"summary": summary, "value": dict(value)}
                                   for name, (summary, value) in route.body_examples.items()}
        elif route.body_example is not None:
            content["example"] = dict(route.body_example)
        operation["requestBody"] = {"required": route.body_required,
                                    "content": {"application/json": content}}
    if route.raw_body is not None:
        media_type, example = route.raw_body
        operation["requestBody"] = {"required": route.body_required, "content": {
            media_type: {"schema": {"type": "string"}, "example": example}}}
    return operation


def build_spec(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of ``ROUTES``, as a JSON-ready dict."""
    options: dict[str, Any] = {"info": {"description": _overview()}, "tags": TAGS}
    if server_url:
        options["servers"] = [{"url": server_url}]
    plugin = MarshmallowPlugin()
    spec = APISpec(TITLE, _version(), OPENAPI_VERSION, plugins=[plugin], **options)
    _register_components(spec)
    assert plugin.converter is not None  # set when the spec initialised the plugin
    operations: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        operations.setdefault(openapi_path(route.rule), {})[route.method.lower()] = \
            _operation(route, plugin.converter)
    for path, by_method in operations.items():
        spec.path(path, operations=by_method)
    return spec.to_dict()


# -- the page for people ----------------------------------------------------------------------

@dataclass
class FieldRow:
    name: str
    type: str
    required: bool
    notes: str


@dataclass
class BodyView:
    content_type: str
    type: str
    link: str | None = None  # anchor of the named schema, if it is one
    fields: list[FieldRow] = field(default_factory=list)
    examples: list[dict[str, str]] = field(default_factory=list)  # title, text


class SchemaWalker:
    """Turns OpenAPI schemas (with ``$ref`` into components) into readable field rows."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})

    @staticmethod
    def ref_name(schema: Mapping[str, Any]) -> str | None:
        ref = schema.get("$ref")
        return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None

    def unwrap(self, schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
        """Strip apispec's 3.0 wrappers: ``allOf: [ref]`` and nullable ``anyOf``."""
        nullable = bool(schema.get("nullable"))
        for key in ("allOf", "anyOf"):
            options = schema.get(key)
            if not options:
                continue
            real = [o for o in options if not (o.get("nullable") and set(o) <= {"type",
                                                                                "nullable"})]
            nullable = nullable or len(real) < len(options)
            if len(real) == 1:
                return real[0], nullable
        return schema, nullable

    def target(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        name = self.ref_name(schema)
        return self.schemas.get(name, {}) if name else schema

    def type_text(self, schema: Mapping[str, Any]) -> str:
        schema, nullable = self.unwrap(schema)
        name = self.ref_name(schema)
        if name:
            text = name
        elif "oneOf" in schema:
            text = " | ".join(self.type_text(option) for option in schema["oneOf"])
        elif schema.get("type") == "array":
            text = f"array of {self.type_text(schema.get('items', {}))}"
        elif isinstance(schema.get("additionalProperties"), dict) \
                and not schema.get("properties"):
            text = f"map of {self.type_text(schema['additionalProperties']) or 'any'}"
        else:
            text = str(schema.get("type", "any"))
            if schema.get("format"):
                text += f" ({schema['format']})"
        return text + (" or null" if nullable else "")

    @staticmethod
    def notes(schema: Mapping[str, Any]) -> str:
        parts = []
        if schema.get("description"):
            parts.append(str(schema["description"]))
        if schema.get("enum"):
            parts.append("One of: " + ", ".join(str(v) for v in schema["enum"]) + ".")
        for key, label in (("pattern", "Pattern"), ("minLength", "Min length"),
                           ("maxLength", "Max length"), ("minimum", "Minimum"),
                           ("maximum", "Maximum"), ("maxItems", "At most (items)")):
            if key in schema:
                parts.append(f"{label}: {schema[key]}.")
        if schema.get("default") not in (None, [], ""):
            parts.append(f"Default: {json.dumps(schema['default'], ensure_ascii=False)}.")
        return " ".join(parts)

    def rows(self, schema: Mapping[str, Any], prefix: str = "",
             seen: frozenset[str] = frozenset()) -> list[FieldRow]:
        """Every field under ``schema``, nested ones as ``a.b`` and ``list[].b``."""
        schema, _ = self.unwrap(schema)
        name = self.ref_name(schema)
        if name:
            if name in seen:
                return []
            seen = seen | {name}
        body = self.target(schema)
        if body.get("type") == "array":
            inner = prefix.removesuffix(".") + "[]." if prefix else ""
            return self.rows(body.get("items", {}), inner, seen)
        result = []
        required = set(body.get("required", []))
        for field_name, prop in body.get("properties", {}).items():
            inner, _ = self.unwrap(prop)
            result.append(FieldRow(prefix + field_name, self.type_text(prop),
                                   field_name in required,
                                   self.notes(prop) or self.notes(self.target(inner))))
            result += self.rows(prop, f"{prefix}{field_name}.", seen)
        values = body.get("additionalProperties")
        if isinstance(values, dict) and not body.get("properties") and prefix:
            key = prefix + "{key}"
            target = self.target(self.unwrap(values)[0])
            if target.get("properties") or target.get("type") == "array":
                result += self.rows(values, key + ".", seen)
            else:
                result.append(FieldRow(key, self.type_text(values), False,
                                       self.notes(values)))
        return result

    def body(self, content_type: str, media: Mapping[str, Any], walk: bool) -> BodyView:
        schema = media.get("schema", {})
        name = self.ref_name(self.unwrap(schema)[0])
        return BodyView(content_type, self.type_text(schema),
                        f"schema-{name}" if name else None,
                        self.rows(schema) if walk else [])


def _resolve(spec: dict[str, Any], item: Mapping[str, Any], section: str) -> Mapping[str, Any]:
    ref = item.get("$ref")
    if not ref:
        return item
    return spec.get("components", {}).get(section, {}).get(ref.rsplit("/", 1)[-1], {})


def _page_model(spec: dict[str, Any]) -> dict[str, Any]:
    """What the template shows: plain data, already walked."""
    walker = SchemaWalker(spec)
    operations = []
    for path, by_method in spec.get("paths", {}).items():
        for method, op in by_method.items():
            parameters = []
            for raw in op.get("parameters", []):
                p = _resolve(spec, raw, "parameters")
                parameters.append({"name": p.get("name", ""), "in": p.get("in", ""),
                                   "required": bool(p.get("required")),
                                   "type": walker.type_text(p.get("schema", {})),
                                   "notes": " ".join(filter(None, [
                                       p.get("description", ""),
                                       walker.notes(p.get("schema", {}))]))})
            request = None
            if "requestBody" in op:
                ((content_type, media),) = op["requestBody"]["content"].items()
                request = walker.body(content_type, media, walk=True)
                named = [(e.get("summary", name), e.get("value"))
                         for name, e in media.get("examples", {}).items()]
                if "example" in media:
                    named.insert(0, ("", media["example"]))
                request.examples = [{"title": title, "text": json.dumps(
                    value, ensure_ascii=False, indent=2)} for title, value in named]
            responses = []
            for status, raw in op.get("responses", {}).items():
                response = _resolve(spec, raw, "responses")
                headers = [{"name": name, "description": _resolve(spec, header, "headers")
                            .get("description", "")}
                           for name, header in response.get("headers", {}).items()
                           if name != REQUEST_ID_HEADER]  # on every response: said once
                bodies = [walker.body(ct, media, walk=status.startswith("2"))
                          for ct, media in response.get("content", {}).items()]
                responses.append({"status": status,
                                  "description": response.get("description", ""),
                                  "headers": headers, "bodies": bodies})
            operations.append({
                "id": op.get("operationId") or f"{method}-{path}", "method": method.upper(),
                "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "tags": op.get("tags", []),
                "roles": op.get("x-roles", []), "secured": bool(op.get("security")),
                "parameters": parameters, "request": request, "responses": responses,
            })
    schemas = [{"name": name, "anchor": f"schema-{name}",
                "description": schema.get("description", ""),
                "fields": walker.rows({"$ref": f"#/components/schemas/{name}"})}
               for name, schema in sorted(walker.schemas.items())]
    info = spec.get("info", {})
    return {"title": info.get("title", "API"), "version": info.get("version", ""),
            "overview": info.get("description", ""), "servers": spec.get("servers", []),
            "openapi": spec.get("openapi", ""),
            "security": spec.get("components", {}).get("securitySchemes", {}),
            "operations": operations, "schemas": schemas}


DOCS_TEMPLATE = """\
<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} — API</title>
<style>
body { font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; margin: 0 auto;
       max-width: 70rem; padding: 1rem 2rem; line-height: 1.45; color: #1d1d1f; }
h1 { margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #c8102e; padding-bottom: .2rem; margin-top: 2.5rem; }
section.op { border: 1px solid #ccc; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
.method { display: inline-block; min-width: 4rem; font-weight: bold; color: #fff;
          background: #555; border-radius: 4px; padding: 0 .4rem; text-align: center; }
.GET { background: #1565c0; } .POST { background: #2e7d32; }
.PUT { background: #ef6c00; } .DELETE { background: #c62828; }
.text { white-space: pre-line; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 .8rem; font-size: .95rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f3f3f3; }
code, pre { font-family: ui-monospace, Consolas, monospace; }
pre { background: #f6f6f6; padding: .5rem; overflow-x: auto; }
.muted { color: #666; }
</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p class="muted">API version {{ version }} · OpenAPI {{ openapi }} ·
<a href="openapi.json">openapi.json</a>
{%- for server in servers %} · server <code>{{ server.url }}</code>{% endfor %}</p>
</header>
<nav>
<h2>Contents</h2>
<ul>
{% for op in operations %}
<li><a href="#{{ op.id }}"><code>{{ op.method }} {{ op.path }}</code></a> — {{ op.summary }}</li>
{% endfor %}
<li><a href="#schemas">Schemas</a></li>
</ul>
</nav>
<main>
<h2>Overview</h2>
<div class="text">{{ overview }}</div>
{% for name, scheme in security.items() %}
<h3>Authentication: {{ name }}</h3>
<p>{{ scheme.type }} {{ scheme.scheme }}{% if scheme.bearerFormat %} ({{ scheme.bearerFormat }})
{%- endif %}. {{ scheme.description }}</p>
{% endfor %}
<h2>Operations</h2>
{% for op in operations %}
<section class="op" id="{{ op.id }}">
<h3><span class="method {{ op.method }}">{{ op.method }}</span> <code>{{ op.path }}</code></h3>
<p><strong>{{ op.summary }}</strong></p>
<div class="text">{{ op.description }}</div>
<p>Who may call: {% if op.roles %}{{ op.roles | join(", ") }} (bearer token)
{%- else %}anyone, no token{% endif %}.</p>
{% if op.parameters %}
<h4>Parameters</h4>
<table>
<tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Notes</th></tr>
{% for p in op.parameters %}
<tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td><td>{{ p.type }}</td>
<td>{{ "yes" if p.required else "no" }}</td><td>{{ p.notes }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% if op.request %}
<h4>Request body</h4>
<p><code>{{ op.request.content_type }}</code>: {{ body_type(op.request) }}</p>
{{ field_table(op.request.fields) }}
{% for example in op.request.examples %}
<details><summary>Example{% if example.title %}: {{ example.title }}{% endif %}</summary>
<pre>{{ example.text }}</pre></details>
{% endfor %}
{% endif %}
<h4>Responses</h4>
<table>
<tr><th>Status</th><th>Meaning</th><th>Body</th><th>Headers</th></tr>
{% for r in op.responses %}
<tr><td><strong>{{ r.status }}</strong></td><td>{{ r.description }}</td>
<td>{% for b in r.bodies %}<code>{{ b.content_type }}</code>: {{ body_type(b) }}{% endfor %}</td>
<td>{% for h in r.headers %}<code>{{ h.name }}</code>{% if h.description %}:
{{ h.description }}{% endif %}<br>{% endfor %}</td></tr>
{% endfor %}
</table>
{% for r in op.responses %}{% for b in r.bodies %}{% if b.fields %}
<details><summary>Fields of the {{ r.status }} response</summary>
{{ field_table(b.fields) }}
</details>
{% endif %}{% endfor %}{% endfor %}
</section>
{% endfor %}
<h2 id="schemas">Schemas</h2>
{% for s in schemas %}
<section id="{{ s.anchor }}">
<h3>{{ s.name }}</h3>
{% if s.description %}<p>{{ s.description }}</p>{% endif %}
{{ field_table(s.fields) }}
</section>
{% endfor %}
</main>
</body>
</html>
"""

MACROS = """\
{% macro body_type(b) -%}
{% if b.link %}<a href="#{{ b.link }}">{{ b.type }}</a>{% else %}{{ b.type }}{% endif %}
{%- endmacro %}
{% macro field_table(rows) -%}
{% if rows %}
<table>
<tr><th>Field</th><th>Type</th><th>Required</th><th>Notes</th></tr>
{% for f in rows %}
<tr><td><code>{{ f.name }}</code></td><td>{{ f.type }}</td>
<td>{{ "yes" if f.required else "" }}</td><td>{{ f.notes }}</td></tr>
{% endfor %}
</table>
{% endif %}
{%- endmacro %}
"""

_JINJA = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                     lstrip_blocks=True)
_TEMPLATE = _JINJA.from_string(MACROS + DOCS_TEMPLATE)


def docs_html(spec: dict[str, Any]) -> str:
    """A self-contained page (inline CSS, no scripts) that shows ``spec`` to a person."""
    return _TEMPLATE.render(**_page_model(spec))
