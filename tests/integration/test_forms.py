"""Forms 02 to 05 through the gateway: each issued by the action that decides it, listed in
the dossier's view, printed by its route for whoever may see the dossier."""

import csv
import io
import shutil
import subprocess
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader

from motcua.calendar import WorkingCalendar
from tests.integration.test_processing import COMMUNE, birth_dossier
from tests.integration.test_workflow import PDF, Desk
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

JUSTICE = "000.00.15.H56"
DESK_OFFICER = {"role": "officer", "sub": "cb-desk", "agency": COMMUNE, "name": "Lê Thị Thủy"}


def text_of(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_forms_02_04_05_are_issued_listed_and_printed(system):
    """The desk asks for a supplement at reception (02, intake's), accepts, extends (04),
    asks again during processing (02, processing's) and stops the dossier (05)."""
    desk = Desk(system)
    desk.code = system.http.post(system.url("/api/v1/dossiers"), json=birth_dossier(),
                                 headers=system.headers()).json()["code"]

    def act(**body):
        return desk.post("/actions", body, **DESK_OFFICER)

    assert act(action="request_supplement", missing=["Tờ khai có chữ ký"]).status_code == 200
    supplement = {"documents": [{"code": "TK01", "filename": "tk.pdf",
                                 "content_type": "application/pdf", "content_base64": PDF}]}
    assert desk.post("/supplements", supplement, role="citizen",
                     sub="citizen-1").status_code == 201
    assert act(action="accept").status_code == 200
    opened = desk.opened()
    later = WorkingCalendar().add(datetime.fromisoformat(opened["due_at"]),
                                  timedelta(hours=8))
    assert act(action="extend", reason="Chờ xác minh cư trú",
               new_due_at=later.isoformat()).status_code == 200
    assert act(action="request_supplement",
               missing=["Giấy xác nhận cư trú", "Bản sao CCCD của mẹ"]).status_code == 200
    stopped = act(action="stop", reason="Người yêu cầu đề nghị dừng")
    assert stopped.json()["status"] == "stopped"

    base = f"/api/v1/dossiers/{desk.code}"
    assert [(f["form"], f["href"]) for f in stopped.json()["forms"]] == [
        ("01", f"{base}/receipt.pdf"),
        ("02", f"{base}/supplement-request.pdf?number=1"),
        ("02", f"{base}/supplement-request.pdf?number=2"),
        ("04", f"{base}/apology.pdf?number=1"),
        ("05", f"{base}/stop-notice.pdf?number=1"),
        ("06", f"{base}/control-slip.pdf"),
    ]
    citizen_view = desk.get(role="citizen", sub="citizen-1").json()
    assert citizen_view["forms"] == stopped.json()["forms"]
    assert citizen_view["forms"][1]["title"] == (
        "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (lần 1)")

    at_reception = text_of(desk.get("/supplement-request.pdf?number=1",
                                    role="citizen", sub="citizen-1"))
    latest = text_of(desk.get("/supplement-request.pdf", role="admin", sub="a"))
    apology = text_of(desk.get("/apology.pdf", role="citizen", sub="citizen-1"))
    stop = text_of(desk.get("/stop-notice.pdf?number=1", **DESK_OFFICER))
    receipt = text_of(desk.get("/receipt.pdf", role="citizen", sub="citizen-1"))
    slip = text_of(desk.get("/control-slip.pdf", **DESK_OFFICER))

    assert "Mẫu số 02" in at_reception and "1. Tờ khai có chữ ký" in at_reception
    assert "Hồ sơ chưa được tiếp nhận" in at_reception
    assert "Lê Thị Thủy" in at_reception and "Kính gửi: Ông/Bà Hoàng Văn Lai" in at_reception
    assert "1. Giấy xác nhận cư trú 2. Bản sao CCCD của mẹ" in latest
    assert "Lần yêu cầu bổ sung: 02" in latest and "tạm dừng" in latest
    assert "Thanh Hóa, ngày" in latest and "UBND TỈNH THANH HÓA" in latest
    assert "Mẫu số 04" in apology and "Lý do: Chờ xác minh cư trú" in apology
    assert "xin lỗi Ông/Bà" in apology and "Lê Thị Thủy" in apology
    local = later.astimezone(datetime.fromisoformat(opened["due_at"]).tzinfo)
    assert f"Thời gian hẹn trả kết quả mới: {local:%H} giờ {local:%M} phút" in apology
    assert "Mẫu số 05" in stop and "Lý do: Người yêu cầu đề nghị dừng" in stop
    assert "Mẫu số 01" in receipt and "Lê Thị Thủy" in receipt  # the token's name claim
    assert "UBND TỈNH THANH HÓA" in receipt and "Thanh Hóa, ngày" in receipt
    assert "Mẫu số 06" in slip and "Thanh Hóa, ngày" in slip

    assert desk.get("/supplement-request.pdf?number=3", role="admin",
                    sub="a").status_code == 404
    assert desk.get("/apology.pdf?number=2", role="admin", sub="a").status_code == 404
    assert desk.get("/refusal.pdf", role="admin", sub="a").status_code == 404
    assert desk.get("/supplement-request.pdf?number=0", role="admin",
                    sub="a").status_code == 422
    assert desk.get("/apology.pdf", role="citizen", sub="citizen-2").status_code == 404
    assert desk.get("/stop-notice.pdf", role="officer", sub="x",
                    agency=JUSTICE).status_code == 404


def test_form_03_prints_the_refusal(system):
    desk = Desk(system)
    desk.code = system.http.post(system.url("/api/v1/dossiers"),
                                 json=sample_dossier(agency=JUSTICE),
                                 headers=system.headers()).json()["code"]
    before = desk.get("/refusal.pdf", role="citizen", sub="citizen-1")
    refused = desk.post("/actions", {"action": "refuse", "reason": "Hồ sơ giả mạo chữ ký"},
                        role="officer", sub="cb-tp", agency=JUSTICE, name="Trần Văn Nam")
    view = refused.json()
    form = desk.get("/refusal.pdf", role="citizen", sub="citizen-1")

    assert before.status_code == 404
    assert view["status"] == "refused"
    assert [f["form"] for f in view["forms"]] == ["03"]
    assert view["forms"][0]["href"] == f"/api/v1/dossiers/{desk.code}/refusal.pdf"
    text = text_of(form)
    assert "Mẫu số 03" in text and "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text
    assert "Lý do: Hồ sơ giả mạo chữ ký" in text
    assert "SỞ TƯ PHÁP" in text and "Thanh Hóa, ngày" in text
    assert "Trần Văn Nam" in text and "cb-tp" not in text  # the token's name claim
    assert "phieu-tu-choi" in form.headers["Content-Disposition"]
    wait_for(lambda: desk.get(role="admin", sub="a").json()["status"] == "refused",
             message="the refusal to settle")
    assert desk.get("/supplement-request.pdf", role="admin", sub="a").status_code == 404


def test_form_07_registers_what_an_agency_received_in_a_period(system):
    """Three dossiers for the justice department (one accepted and taken, one refused, one
    waiting) and one for a commune: the department's register lists its three in order."""
    citizen = system.headers()
    codes = [system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(
        agency=JUSTICE, applicant=dict(sample_dossier()["applicant"], name=name)),
        headers=citizen).json()["code"] for name in ("Hoàng Văn Lai", "Trần Thị Bình",
                                                     "Lê Văn Cường")]
    system.http.post(system.url("/api/v1/dossiers"), json=birth_dossier(), headers=citizen)
    justice = {"role": "officer", "sub": "cb-tp", "agency": JUSTICE}
    first, second = Desk(system, codes[0]), Desk(system, codes[1])
    assert first.post("/actions", {"action": "accept"}, **justice).status_code == 200
    first.opened()
    assert first.post("/actions", {"action": "take"}, **justice).status_code == 200
    assert second.post("/actions", {"action": "refuse", "reason": "Sai thẩm quyền"},
                       **justice).status_code == 200
    today = datetime.now(tz=datetime.fromisoformat(first.get(
        role="admin", sub="a").json()["submitted_at"]).tzinfo).date()
    period = {"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}

    def register(kind, who=justice, agency=JUSTICE, **params):
        return system.http.get(system.url(f"/api/v1/registers/{agency}.{kind}"),
                               params=params or period, headers=system.headers(**who))

    pdf, sheet = register("pdf"), register("csv")
    text = text_of(pdf)
    assert "Mẫu số 07" in text and "SỔ THEO DÕI HỒ SƠ" in text and "3 hồ sơ" in text
    assert [text.index(code) for code in codes] == sorted(text.index(c) for c in codes)
    assert "Đang xử lý" in text and "Không được tiếp nhận" in text and "Mới đăng ký" in text
    assert COMMUNE not in text
    assert sheet.status_code == 200 and sheet.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in sheet.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert [line[1] for line in lines[1:]] == codes
    assert [line[12] for line in lines[1:]] == ["4", "3", "1"]
    assert [line[5] for line in lines[1:]] == ["Hoàng Văn Lai", "Trần Thị Bình",
                                               "Lê Văn Cường"]

    province = {"role": "officer", "sub": "cb-t", "agency": "000.00.00.H56"}
    assert register("csv", province).status_code == 200  # an agency above it
    assert register("pdf", {"role": "officer", "sub": "x",
                            "agency": COMMUNE}).status_code == 403
    assert register("pdf", {"role": "citizen", "sub": "citizen-1"}).status_code == 403
    assert register("pdf", {"role": "admin", "sub": "a"},
                    agency="999.99.99.H99").status_code == 404
    too_long = register("pdf", **{"from": "2025-01-01", "to": "2026-01-02"})
    backwards = register("csv", **{"from": "2026-11-30", "to": "2026-11-01"})
    assert too_long.status_code == backwards.status_code == 422
    assert "to" in too_long.json()["errors"]
    assert register("pdf", **{"from": "2026-11-01"}).json()["errors"].keys() == {"to"}
    empty = register("csv", **{"from": "2020-01-01", "to": "2020-12-31"})
    assert empty.content.decode("utf-8-sig").count("\n") == 1  # the header alone


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                    reason="needs poppler-utils and zbar-tools")
def test_form_01_s_qr_code_leads_to_the_tracking_page_on_the_public_url(
        start_system, motcua_settings, tmp_path):
    """Even when the request names another host, the QR code and the printed link are
    MOTCUA_PUBLIC_URL/track/{code}; that address is a page that asks for the phone."""
    motcua_settings["MOTCUA"]["PUBLIC_URL"] = "https://dichvucong.thanhhoa.gov.vn/"
    system = start_system()
    desk = Desk(system)
    desk.code = system.http.post(system.url("/api/v1/dossiers"),
                                 json=sample_dossier(agency=JUSTICE),
                                 headers=system.headers()).json()["code"]
    assert desk.post("/actions", {"action": "accept"}, role="officer", sub="cb-tp",
                     agency=JUSTICE).status_code == 200
    receipt = system.http.get(system.url(f"/api/v1/dossiers/{desk.code}/receipt.pdf"),
                              headers=system.headers() | {"Host": "evil.example"})
    (tmp_path / "r.pdf").write_bytes(receipt.content)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", str(tmp_path / "r.pdf"),
                    str(tmp_path / "r")], check=True)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "r.png")],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    page = system.http.get(system.url(f"/track/{desk.code}"), headers={"Host": "evil.example"})

    address = f"https://dichvucong.thanhhoa.gov.vn/track/{desk.code}"
    assert decoded == [address]
    printed = "".join(text_of(receipt).split())
    assert address in printed and "evil" not in printed
    assert "cb-tp" in printed  # no name claim: the officer's sub
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert f'data-code="{desk.code}"' in html and 'type="tel"' in html
    assert "Số điện thoại của người nộp hồ sơ" in html
    assert "<script src" not in html and "<link" not in html and "http" not in html
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert "/api/v1/track/" in html  # what its script asks, with the phone typed in
    answer = system.http.get(system.url(f"/api/v1/track/{desk.code}"),
                             params={"phone": "0912345678"})
    assert answer.json()["national_status"] == 2
