"""The tracking page form 01's QR code leads to: self-contained, escaped, and its script
asks /api/v1/track/{code} with the phone typed in and shows the answer (run under node
with a small fake DOM and fetch)."""

import base64
import hashlib
import json
import re
import shutil
import subprocess

import pytest

from gateway.tracking import CONTENT_SECURITY_POLICY, SCRIPT, tracking_page

CODE = "000.00.15.H56-261123-0001"

FAKE_BROWSER = """
const elements = {};
function element(id, attributes) {
  const node = {id, attributes: attributes || {}, children: [], value: "",
    className: "", listeners: {},
    set textContent(text) { this.children = []; },  // as the DOM: it replaces the children
    getAttribute(name) { return this.attributes[name]; },
    addEventListener(type, fn) { this.listeners[type] = fn; },
    appendChild(child) { this.children.push(child); }};
  elements[id] = node;
  return node;
}
const form = element("track", {"data-code": CODE});
const phone = element("phone");
const answer = element("answer");
phone.value = " 0912345678 ";
const asked = [];
globalThis.document = {
  getElementById: (id) => elements[id],
  createElement: () => ({children: [], textContent: "",
                         appendChild(child) { this.children.push(child); }}),
  createTextNode: (text) => ({textContent: text}),
};
globalThis.fetch = (url) => {
  asked.push(url);
  return Promise.resolve({status: STATUS, json: () => Promise.resolve(BODY)});
};
"""
REPORT = """
form.listeners.submit({preventDefault() {}});
setTimeout(() => {
  const lines = answer.children.map(
    (p) => p.children.map((c) => c.textContent).join(""));
  console.log(JSON.stringify({asked, lines, failed: answer.className}));
}, 50);
"""


def run_page_script(status: int, body: dict) -> dict:
    program = (f"const CODE = {json.dumps(CODE)}; const STATUS = {status}; "
               f"const BODY = {json.dumps(body)};\n" + FAKE_BROWSER + SCRIPT + REPORT)
    done = subprocess.run(["node", "-e", program], capture_output=True, text=True,
                          check=True, timeout=30)
    return json.loads(done.stdout)


def test_the_page_is_self_contained_and_its_script_allowed_by_hash():
    html = tracking_page(CODE)
    assert f'data-code="{CODE}"' in html and 'type="tel"' in html
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "http://" not in html and "https://" not in html
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    assert f"<script>{SCRIPT}</script>" in html  # the very text the hash is of


def test_a_code_from_the_address_is_escaped():
    html = tracking_page('"><script>alert(1)</script>')
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page script")
def test_the_script_asks_with_the_phone_and_shows_the_status():
    found = run_page_script(200, {"code": CODE, "status": "in_progress",
                                  "national_status": 4,
                                  "due_at": "2026-11-27T09:00:00+07:00",
                                  "delivery_method": "counter", "delivery_status": None})
    assert found["asked"] == [f"/api/v1/track/{CODE}?phone=0912345678"]
    assert found["lines"][0] == f"Mã hồ sơ: {CODE}"
    assert found["lines"][1] == "Tình trạng: Đang xử lý"
    assert found["lines"][2].startswith("Hẹn trả kết quả: ") and "2026" in found["lines"][2]
    assert found["failed"] == "answer"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page script")
@pytest.mark.parametrize("status, says", [
    (404, "Không tìm thấy hồ sơ với mã và số điện thoại này."),
    (422, "Số điện thoại không hợp lệ."),
    (503, "Hệ thống đang bận, vui lòng thử lại sau."),
])
def test_the_script_says_what_went_wrong(status, says):
    found = run_page_script(status, {"title": "x"})
    assert found["lines"][0] == says
    assert "failed" in found["failed"]
