"""The dossier's life as the law and API.md have it, through the gateway (issue #9)."""

import base64
import io
import json

import pytest
from pypdf import PdfReader

from tests.integration.test_processing import BIRTH, COMMUNE, INSURANCE, POLICE, birth_dossier
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

JUSTICE = "000.00.15.H56"
PDF = base64.b64encode(b"%PDF-1.4 bs\n%%EOF\n").decode()


class Desk:
    """One system, seen by its callers."""

    def __init__(self, system, code=None):
        self.system = system
        self.code = code

    def post(self, path, body, **who):
        return self.system.http.post(self.system.url(f"/api/v1/dossiers/{self.code}{path}"),
                                     json=body, headers=self.system.headers(**who))

    def get(self, path="", **who):
        return self.system.http.get(self.system.url(f"/api/v1/dossiers/{self.code}{path}"),
                                    headers=self.system.headers(**who))

    def act(self, agency, **body):
        return self.post("/actions", body, role="officer", sub=f"cb-{agency[-6:-4]}",
                         agency=agency, name=f"Cán bộ {agency[-6:-4]}")

    def opened(self):
        return wait_for(lambda: (lambda v: v if v.get("steps") else None)(
            self.get(role="admin", sub="admin").json()), message="processing to open the case")


def officer(agency, sub="cb01"):
    return {"role": "officer", "sub": sub, "agency": agency}


def test_a_lien_thong_dossier_shows_every_hand_over_on_form_06(system):
    """Commune → police → (sent back) → police → insurance, resolved, back at the desk."""
    desk = Desk(system)
    desk.code = system.http.post(system.url("/api/v1/dossiers"), json=birth_dossier(),
                                 headers=system.headers()).json()["code"]

    police_before = desk.get(**officer(POLICE, "ca-01"))
    assert desk.act(COMMUNE, action="accept").status_code == 200
    desk.opened()
    assert desk.get(**officer(POLICE, "ca-01")).status_code == 404  # not reached yet
    assert desk.act(COMMUNE, action="forward").json()["current_agency"] == POLICE
    police_after = desk.get(**officer(POLICE, "ca-01"))
    assert desk.act(POLICE, action="take").status_code == 200
    assert desk.act(POLICE, action="send_back", note="Thiếu xác nhận cư trú").status_code == 200
    assert desk.act(COMMUNE, action="forward").status_code == 200
    assert desk.act(POLICE, action="forward").json()["current_agency"] == INSURANCE
    resolved = desk.act(INSURANCE, action="resolve",
                        results=[{"name": "Thẻ BHYT", "reference": "BH-1"}]).json()
    assert resolved["current_agency"] == COMMUNE  # the result comes back to the desk
    assert desk.act(INSURANCE, action="return").status_code == 403
    returned = desk.act(COMMUNE, action="return").json()
    slip = desk.get("/control-slip.pdf", **officer(COMMUNE))

    assert police_before.status_code == 404 and police_after.status_code == 200
    assert (returned["status"], returned["national_status"]) == ("returned", 10)
    assert slip.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(slip.content)).pages)
    text = " ".join(text.split())
    procedure = system.http.get(system.url(f"/api/v1/procedures/{BIRTH}")).json()["name"]
    assert " ".join(procedure.split()[:3]) in text
    assert "Hoàng Văn Lai" in text
    assert text.count("Giao:") == 7  # accept, forward, send back, forward ×2, resolve, return
    assert "Trả lại" in text and "Thiếu xác nhận cư trú" in text
    assert "Trả kết quả" in text
    assert "Người nhận: Cán bộ 21" in text  # who took it, by the name in its token
    assert "Người giao: Cán bộ 23" in text  # who resolved it


def test_a_counter_dossier_belongs_to_its_citizen_not_to_the_officer_who_typed_it(system):
    desk = Desk(system)
    receipt = system.http.post(system.url("/api/v1/dossiers"),
                               json=sample_dossier(channel="counter", agency=JUSTICE),
                               headers=system.headers(**officer(JUSTICE)))
    desk.code = receipt.json()["code"]
    desk.opened()

    same_sub = desk.get(role="citizen", sub="cb01")  # a citizen whose sub is the officer's
    linked = desk.get(role="citizen", sub="vneid-77", id_number="038085001234")
    other_number = desk.get(role="citizen", sub="vneid-78", id_number="038085009999")
    assert receipt.status_code == 201 and receipt.json()["national_status"] == 2
    assert same_sub.status_code == 404 and other_number.status_code == 404
    assert linked.status_code == 200

    ask = {"action": "request_supplement", "missing": ["Bản sao CCCD"]}
    assert desk.act(JUSTICE, **ask).json()["national_status"] == 5
    supplement = {"documents": [{"code": "TK01", "filename": "cccd.pdf",
                                 "content_type": "application/pdf", "content_base64": PDF}],
                  "note": "Công dân mang tới quầy"}
    by_desk = desk.post("/supplements", supplement, **officer(JUSTICE))
    assert by_desk.status_code == 201
    wait_for(lambda: desk.get(role="admin", sub="a").json()["national_status"] == 4,
             message="the clock to resume")
    assert desk.act(JUSTICE, **ask).json()["supplement_requests"] == 2
    by_citizen = desk.post("/supplements", supplement, role="citizen", sub="vneid-77",
                           id_number="038085001234")
    assert by_citizen.status_code == 201
    notes = system.query("intake", "SELECT note FROM supplements ORDER BY id")
    assert notes[0][0].startswith("[cán bộ cb01 thay công dân, tại quầy]")
    assert notes[1][0] == "Công dân mang tới quầy"
    wait_for(lambda: desk.get(role="admin", sub="a").json()["national_status"] == 4,
             message="the clock to resume again")

    withdrawn = desk.post("/withdraw", {"reason": "Đổi ý"}, role="citizen", sub="vneid-77",
                          id_number="038085001234")
    assert (withdrawn.json()["status"], withdrawn.json()["national_status"]) == (
        "withdrawn", 7)
    wait_for(lambda: system.query("intake", "SELECT status FROM dossiers")[0][0] == "withdrawn",
             message="intake to learn of the withdrawal")


def test_withdrawal_is_refused_once_a_result_exists(system):
    desk = Desk(system)
    desk.code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(
        delivery={"method": "counter"}, pickup=None), headers=system.headers()).json()["code"]
    desk.act(JUSTICE, action="accept")
    desk.opened()
    assert desk.act(JUSTICE, action="resolve", results=[{"name": "Trích lục"}]).json()[
        "national_status"] == 9

    refused = desk.post("/withdraw", {}, role="citizen", sub="citizen-1")
    after_return = desk.act(JUSTICE, action="return").json()
    refused_again = desk.post("/withdraw", {}, role="citizen", sub="citizen-1")

    assert refused.status_code == refused_again.status_code == 409
    assert "can no longer be withdrawn" in refused.json()["detail"]
    assert after_return["national_status"] == 10
    assert desk.get(role="citizen", sub="citizen-1").json()["national_status"] == 10
    assert system.query("intake", "SELECT status FROM dossiers")[0][0] == "accepted"


def test_a_supplement_is_taken_only_when_one_was_requested(system):
    desk = Desk(system)
    desk.code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                                 headers=system.headers()).json()["code"]
    supplement = {"documents": [{"code": "TK01", "filename": "tk.pdf",
                                 "content_type": "application/pdf", "content_base64": PDF}]}
    desk.act(JUSTICE, action="accept")
    desk.opened()

    unasked = desk.post("/supplements", supplement, role="citizen", sub="citizen-1")
    blank = desk.act(JUSTICE, action="request_supplement", missing=["  "])
    too_long = desk.act(JUSTICE, action="request_supplement", missing=["x" * 501])
    asked = desk.act(JUSTICE, action="request_supplement", missing=["Tờ khai có chữ ký"])
    answered = desk.post("/supplements", supplement, role="citizen", sub="citizen-1")

    assert unasked.status_code == 409 and "no supplement was requested" in unasked.json()[
        "detail"]
    assert blank.status_code == too_long.status_code == 422
    assert asked.json()["national_status"] == 5
    assert answered.status_code == 201
    assert system.query("intake", "SELECT count(*) FROM supplements")[0][0] == 1


def test_the_result_documents_are_kept_and_the_citizen_downloads_them(system):
    desk = Desk(system)
    desk.code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(
        delivery={"method": "counter"}, pickup=None), headers=system.headers()).json()["code"]
    desk.act(JUSTICE, action="accept")
    desk.opened()
    result = b"%PDF-1.4 trich luc khai sinh\n%%EOF\n"
    documents = [{"code": "KQ01", "filename": "trích-lục.pdf", "content_type": "application/pdf",
                  "content_base64": base64.b64encode(result).decode()}]
    not_a_pdf = [documents[0] | {"content_base64": base64.b64encode(b"MZ\x90").decode()}]

    refused = desk.act(JUSTICE, action="resolve", documents=not_a_pdf)
    resolved = desk.act(JUSTICE, action="resolve", documents=documents,
                        results=[{"name": "Quyết định", "reference": "12/QĐ"}])
    mine = desk.get("/results/1", role="citizen", sub="citizen-1")
    foreign = desk.get("/results/1", role="citizen", sub="citizen-2")
    missing = desk.get("/results/2", role="citizen", sub="citizen-1")

    assert refused.status_code == 422
    assert any(field.startswith("documents") for field in refused.json()["errors"])
    assert system.query("intake", "SELECT count(*) FROM result_documents")[0][0] == 1
    assert resolved.status_code == 200 and resolved.json()["national_status"] == 9
    assert mine.status_code == 200 and mine.content == result
    assert mine.headers["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''tr%C3%ADch-l%E1%BB%A5c.pdf" in mine.headers["Content-Disposition"]
    assert foreign.status_code == missing.status_code == 404
    results = system.query("processing", "SELECT results FROM cases")[0][0]
    results = json.loads(results) if isinstance(results, str) else results
    assert results == [{"name": "Quyết định", "reference": "12/QĐ"},
                       {"name": "trích-lục.pdf",
                        "reference": f"/api/v1/dossiers/{desk.code}/results/1"}]
