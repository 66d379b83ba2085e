"""The tracking page form 01's QR code leads to (``/track/{code}``), for a person with a
phone in their hand: it asks for the applicant's phone number, then shows where the
dossier stands.

The page is self-contained: no script, style or font from anywhere else. Its one inline
script asks ``/api/v1/track/{code}?phone=`` (the phone never appears in the page's own
address, so not in its access-log line or the browser's history) and shows the answer;
the Content-Security-Policy allows that script by its hash and nothing else. The dossier
code reaches the script through an escaped attribute, so the script is the same text for
every dossier and its hash is computed once.
"""

from __future__ import annotations

import base64
import hashlib
import json

from jinja2 import Environment
from markupsafe import Markup

from motcua.forms import NATIONAL_STATUSES

SCRIPT = """
(function () {
  var STATUSES = @STATUSES@;
  var form = document.getElementById("track");
  var out = document.getElementById("answer");
  var code = form.getAttribute("data-code");
  function show(lines, failed) {
    out.textContent = "";
    out.className = failed ? "answer failed" : "answer";
    lines.forEach(function (pair) {
      var row = document.createElement("p");
      var label = document.createElement("strong");
      label.textContent = pair[0];
      row.appendChild(label);
      if (pair.length > 1) { row.appendChild(document.createTextNode(" " + pair[1])); }
      out.appendChild(row);
    });
  }
  function when(value) {
    if (!value) { return "chưa có"; }
    var d = new Date(value);
    return d.toLocaleString("vi-VN", {timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit",
      minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric"});
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var phone = document.getElementById("phone").value.trim();
    show([["Đang tra cứu..."]]);
    fetch("/api/v1/track/" + encodeURIComponent(code) + "?phone=" +
          encodeURIComponent(phone), {headers: {"Accept": "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) { return [response.status, body]; });
      })
      .then(function (answer) {
        var status = answer[0], body = answer[1];
        if (status === 200) {
          show([["Mã hồ sơ:", body.code],
                ["Tình trạng:", STATUSES[body.national_status] || body.status],
                ["Hẹn trả kết quả:", when(body.due_at)],
                ["Giao nhận qua bưu chính:", body.delivery_status || "không"]]);
        } else if (status === 422) {
          show([["Số điện thoại không hợp lệ."], ["Nhập số di động, ví dụ 0912345678."]],
               true);
        } else if (status === 404) {
          show([["Không tìm thấy hồ sơ với mã và số điện thoại này."]], true);
        } else {
          show([["Hệ thống đang bận, vui lòng thử lại sau."]], true);
        }
      })
      .catch(function () { show([["Không kết nối được, vui lòng thử lại."]], true); });
  });
})();
""".replace("@STATUSES@", json.dumps({str(k): v for k, v in NATIONAL_STATUSES.items()},
                                     ensure_ascii=False))

SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'sha256-{SCRIPT_HASH}'; style-src 'unsafe-inline'; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")

PAGE = Environment(autoescape=True).from_string("""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tra cứu hồ sơ {{ code }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 1.5rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
h1 { font-size: 1.3rem; } label { display: block; font-weight: 600; margin: 1rem 0 .3rem; }
input { font-size: 1.2rem; padding: .5rem; width: 100%; box-sizing: border-box; }
button { font-size: 1.1rem; padding: .6rem 1.2rem; margin-top: .8rem; }
.code { font-family: monospace; font-size: 1.05rem; }
.answer { margin-top: 1.2rem; padding: .8rem; border: 1px solid #9ab; background: #f3f7fa; }
.answer:empty { display: none; } .failed { border-color: #c66; background: #fbeeee; }
</style>
</head>
<body>
<h1>Tra cứu tình trạng giải quyết hồ sơ</h1>
<p>Mã hồ sơ: <span class="code">{{ code }}</span></p>
<form id="track" data-code="{{ code }}">
<label for="phone">Số điện thoại của người nộp hồ sơ</label>
<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" required
       pattern="(0|\\+84)[35789][0-9]{8}" placeholder="0912345678">
<button type="submit">Tra cứu</button>
</form>
<div id="answer" class="answer" aria-live="polite"></div>
<noscript><p>Trang này cần bật JavaScript để tra cứu.</p></noscript>
<script>{{ script }}</script>
</body>
</html>
""")


def tracking_page(code: str) -> str:
    """The page for one dossier code (escaped: the code comes from the address)."""
    return PAGE.render(code=code, script=Markup(SCRIPT))
