"""The providers, behind one interface: ``send(outgoing) -> provider id``.

Each raises ``Transient`` for what may work later (a timeout, a 5xx, a 429, a 4xx SMTP
reply) and ``Permanent`` for what never will (no such number or address): the sender
retries the first with backoff and gives up on the second at once.

- e-mail: SMTP (smtplib), STARTTLS and login when configured; multipart/alternative
  with a plain and an HTML part, UTF-8 headers (RFC 2047 for the subject and names).
- SMS: a brand-name SMS provider's HTTP API (the JSON shape of eSMS-style gateways):
  ``POST {URL}`` ``{ApiKey, SecretKey, Phone, Content, Brandname, SmsType, IsUnicode,
  RequestId, CallbackUrl}`` → ``{CodeResult: "100", SMSID}``; another CodeResult is an
  error (``INVALID_PHONE_CODES`` are permanent).
- Zalo ZNS: ``POST {URL}`` with header ``access_token`` and ``{phone, template_id,
  template_data, tracking_id}`` → ``{error: 0, data: {msg_id}}``; negative ``error``
  codes are failures (``ZALO_PERMANENT`` are permanent).

``services.notify.standins`` answers in these shapes on loopback for development.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any, Protocol

import requests

from services.notify import rendering

INVALID_PHONE_CODES = frozenset({"118", "146", "789"})  # not a number the carrier serves
ZALO_PERMANENT = frozenset({-108, -118, -119, -124, -131})  # bad phone, no Zalo user, ...


class Transient(Exception):
    """Worth trying again later."""


class Permanent(Exception):
    """Never worth trying again (invalid recipient, refused content)."""


@dataclass(frozen=True)
class Outgoing:
    id: str
    channel: str
    to: str
    body: str
    subject: str | None = None
    params: dict[str, Any] | None = None
    provider_ref: str | None = None  # Zalo's template id
    encoding: str | None = None


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> str:
        """Hand the message to the provider; its id for the message (for receipts)."""


class EmailChannel:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, starttls: bool = False,
                 username: str = "", password: str = "", timeout: float = 10.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.sender = host, int(port), sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout, self.ssl_context = timeout, ssl_context

    def build(self, message: Outgoing) -> MIMEMultipart:
        """multipart/alternative, UTF-8. Built with ``email.mime`` and ``Header``: the
        newer ``EmailMessage`` folds a long non-ASCII subject into encoded words that lose
        the space at each fold ("thông báo" comes back "thôngbáo")."""
        display, address = parseaddr(self.sender)
        domain = address.partition("@")[2]
        mail = MIMEMultipart("alternative")
        mail["From"] = formataddr((display, address), charset="utf-8")
        mail["To"] = message.to
        mail["Subject"] = Header(message.subject or "", "utf-8")
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(idstring=message.id, domain=domain or None)
        mail["X-Motcua-Message"] = message.id
        mail.attach(MIMEText(message.body, "plain", "utf-8"))
        mail.attach(MIMEText(rendering.email_html(message.subject or "", message.body),
                             "html", "utf-8"))
        return mail

    def send(self, message: Outgoing) -> str:
        if "@" not in message.to or any(c.isspace() for c in message.to):
            raise Permanent(f"not an e-mail address: {message.to!r}")
        mail = self.build(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise Permanent(f"recipient refused: {exc.recipients}") from None
            raise Transient(f"recipient deferred: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            raise Transient(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise Transient(f"SMTP: {exc}") from None
        return str(mail["Message-ID"])


class SmsChannel:
    name = "sms"

    def __init__(self, url: str, api_key: str = "", secret_key: str = "",
                 brandname: str = "", callback_url: str = "", timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.url, self.api_key, self.secret_key = url, api_key, secret_key
        self.brandname, self.callback_url, self.timeout = brandname, callback_url, timeout
        self.http = session or requests.Session()

    def send(self, message: Outgoing) -> str:
        payload = {"ApiKey": self.api_key, "SecretKey": self.secret_key,
                   "Phone": message.to, "Content": message.body,
                   "Brandname": self.brandname, "SmsType": "2",
                   "IsUnicode": "1" if message.encoding == "ucs2" else "0",
                   "RequestId": message.id, "CallbackUrl": self.callback_url}
        answer = _post(self.http, self.url, payload, {}, self.timeout)
        code = str(answer.get("CodeResult"))
        if code == "100" and answer.get("SMSID"):
            return str(answer["SMSID"])
        why = f"SMS provider CodeResult {code}: {answer.get('ErrorMessage', '')}".strip()
        raise (Permanent if code in INVALID_PHONE_CODES else Transient)(why)


class ZaloChannel:
    name = "zalo"

    def __init__(self, url: str, access_token: str = "", timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.url, self.access_token, self.timeout = url, access_token, timeout
        self.http = session or requests.Session()

    def send(self, message: Outgoing) -> str:
        payload = {"phone": message.to, "template_id": message.provider_ref,
                   "template_data": message.params or {}, "tracking_id": message.id}
        answer = _post(self.http, self.url, payload, {"access_token": self.access_token},
                       self.timeout)
        error = int(answer.get("error", -1))
        if error == 0 and (answer.get("data") or {}).get("msg_id"):
            return str(answer["data"]["msg_id"])
        why = f"Zalo ZNS error {error}: {answer.get('message', '')}"
        raise (Permanent if error in ZALO_PERMANENT else Transient)(why)


def _post(http: requests.Session, url: str, payload: dict[str, Any], headers: dict[str, str],
          timeout: float) -> dict[str, Any]:
    try:
        response = http.post(url, json=payload, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise Transient(f"{url}: {exc.__class__.__name__}: {exc}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise Transient(f"{url}: HTTP {response.status_code}")
    if response.status_code >= 400:
        raise Permanent(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
    try:
        answer = response.json()
    except ValueError:
        raise Transient(f"{url}: not JSON: {response.text[:300]!r}") from None
    return answer if isinstance(answer, dict) else {}


def from_config(notify: dict[str, Any], public_url: str) -> dict[str, Channel]:
    """The channels the ``notify:`` section configures (a channel without a URL or host is
    left out: its messages wait)."""
    callback = f"{public_url.rstrip('/')}/api/v1/notifications/receipts"
    found: dict[str, Channel] = {}
    email, sms_cfg, zalo = (notify.get(k) or {} for k in ("EMAIL", "SMS", "ZALO"))
    if email.get("HOST"):
        found["email"] = EmailChannel(
            email["HOST"], int(email.get("PORT") or 25),
            email.get("FROM") or "Bộ phận Một cửa <motcua@localhost>",
            starttls=bool(email.get("STARTTLS")), username=email.get("USERNAME") or "",
            password=email.get("PASSWORD") or "",
            timeout=float(email.get("TIMEOUT_SECONDS") or 10))
    if sms_cfg.get("URL"):
        found["sms"] = SmsChannel(
            sms_cfg["URL"], sms_cfg.get("API_KEY") or "", sms_cfg.get("SECRET_KEY") or "",
            sms_cfg.get("BRANDNAME") or "", callback,
            timeout=float(sms_cfg.get("TIMEOUT_SECONDS") or 10))
    if zalo.get("URL"):
        found["zalo"] = ZaloChannel(zalo["URL"], zalo.get("ACCESS_TOKEN") or "",
                                    timeout=float(zalo.get("TIMEOUT_SECONDS") or 10))
    return found
