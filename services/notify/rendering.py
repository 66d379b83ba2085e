"""Templates: the seed files, checking one before it is saved, and rendering. Pure.

A template is Jinja with ``StrictUndefined`` (a missing field fails, never prints
empty). One YAML file per kind in ``templates/`` holds its channels: ``sms`` (``body``,
``unaccented``), ``email`` (``subject``, ``body``: the HTML part is made from it) and
``zalo`` (``template_id``, the ZNS template registered with Zalo, and its ``params``,
each a Jinja string).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta
from jinja2 import TemplateError as JinjaError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from services.notify import catalogue, sms

SEEDS = Path(__file__).with_name("templates")
MAX_PRODUCT = 10_000  # characters a template's `*` or `**` may make


class Sandbox(SandboxedEnvironment):
    """Jinja's sandbox (an admin writes these: a plain Environment lets
    ``{{ code.__class__ }}`` walk to any Python object), and no ``{{ code * 10**9 }}``."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" or any(isinstance(v, str | list) for v in (left, right)):
            sizes = [len(v) if isinstance(v, str | list) else abs(v) if isinstance(
                v, int | float) else 0 for v in (left, right)]
            if operator == "**" or sizes[0] * sizes[1] > MAX_PRODUCT:
                raise SecurityError(f"{operator} is not allowed here (too large)")
        return super().call_binop(context, operator, left, right)


ENV = Sandbox(undefined=StrictUndefined, autoescape=False)
MAX_BODY = {"sms": 1000, "email": 20000, "zalo": 4000}
URL = re.compile(r"https?://[^\s<>\"]+")


@dataclass(frozen=True)
class TemplateText:
    """One channel's template, as stored (a version of it) or seeded."""

    name: str
    channel: str
    body: str  # Jinja; Zalo: a JSON object of Jinja strings
    subject: str | None = None
    provider_ref: str | None = None
    unaccented: bool = False


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None = None
    params: dict[str, str] | None = None
    segments: int | None = None
    encoding: str | None = None


class TemplateError(ValueError):
    """A template that cannot be used; ``errors`` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@cache
def seeds() -> dict[tuple[str, str], TemplateText]:
    """Every (kind, channel) template of the seed files."""
    found = {}
    for name in catalogue.KINDS:
        with open(SEEDS / f"{name}.yaml", encoding="utf-8") as handle:
            channels = yaml.safe_load(handle)
        for channel, spec in channels.items():
            found[(name, channel)] = from_spec(name, channel, spec)
    return found


def from_spec(name: str, channel: str, spec: dict[str, Any]) -> TemplateText:
    """A template from its YAML (seed) or JSON (admin) shape."""
    if channel == "zalo":
        return TemplateText(name, channel, json.dumps(spec.get("params") or {},
                                                      ensure_ascii=False),
                            provider_ref=str(spec.get("template_id") or "") or None)
    return TemplateText(name, channel, str(spec.get("body") or "").strip(),
                        subject=spec.get("subject"), unaccented=bool(spec.get("unaccented")))


def parts(template: TemplateText) -> dict[str, str]:
    """The Jinja sources of a template, by the field an admin would correct."""
    if template.channel == "zalo":
        params = json.loads(template.body)
        return {f"params.{key}": str(value) for key, value in params.items()}
    found = {"body": template.body}
    if template.channel == "email":
        found["subject"] = template.subject or ""
    return found


def check(template: TemplateText) -> None:
    """Refuse a template before it is saved: bad Jinja, a field its event does not carry,
    an empty or oversized part, a channel the kind has no use for."""
    errors: dict[str, list[str]] = {}
    kind = catalogue.KINDS.get(template.name)
    if kind is None:
        raise TemplateError({"name": [f"Unknown template {template.name!r}."]})
    if template.channel not in ("sms", "email", "zalo"):
        raise TemplateError({"channel": ["One of sms, email, zalo."]})
    if kind.audience == catalogue.OFFICER and template.channel == "zalo":
        raise TemplateError({"channel": ["Officers are not told over Zalo."]})
    if template.channel == "zalo" and not template.provider_ref:
        errors["template_id"] = ["The ZNS template id registered with Zalo."]
    allowed = catalogue.fields_of(template.name)
    try:
        sources = parts(template)
    except (ValueError, AttributeError):
        raise TemplateError({"params": ["A JSON object of Jinja strings."]}) from None
    if template.channel == "zalo" and not sources:
        errors["params"] = ["At least one parameter."]
    for field, source in sources.items():
        if not source.strip():
            errors.setdefault(field, []).append("Must not be empty.")
            continue
        if len(source) > MAX_BODY[template.channel]:
            errors.setdefault(field, []).append(
                f"At most {MAX_BODY[template.channel]} characters.")
        try:
            names = meta.find_undeclared_variables(ENV.parse(source))
        except TemplateSyntaxError as exc:
            errors.setdefault(field, []).append(f"Jinja syntax error line {exc.lineno}: "
                                                f"{exc.message}")
            continue
        unknown = sorted(names - allowed)
        if unknown:
            errors.setdefault(field, []).append(
                f"{kind.event} does not carry {', '.join(unknown)}; the fields of "
                f"{template.name} are {', '.join(sorted(allowed))}.")
    for field, source in sources.items():
        if any(0xD800 <= ord(c) <= 0xDFFF for c in source + field):
            errors.setdefault(field, []).append("Not valid Unicode text (a lone surrogate).")
    if not errors:  # it must also render, with its kind's sample event
        try:
            rendered = render(template, catalogue.sample_context(template.name))
        except (JinjaError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
            errors["body"] = [f"Does not render with a sample {kind.event}: "
                              f"{exc.__class__.__name__}: {exc}"]
        else:
            if len(rendered.body) > MAX_BODY[template.channel]:
                errors["body"] = [f"Renders {len(rendered.body)} characters with a sample "
                                  f"{kind.event}; at most {MAX_BODY[template.channel]}."]
    if errors:
        raise TemplateError(errors)


@lru_cache(maxsize=1024)
def compiled(source: str) -> Template:
    """Jinja compiles a template in milliseconds: once per text, not once per message."""
    return ENV.from_string(source)


def render(template: TemplateText, fields: dict[str, Any]) -> Rendered:
    """The text of one message. Raises jinja2's UndefinedError if a field is missing."""
    if template.channel == "zalo":
        params = {key: compiled(str(value)).render(fields).strip()
                  for key, value in json.loads(template.body).items()}
        return Rendered(body=json.dumps(params, ensure_ascii=False), params=params)
    body = tidy(compiled(template.body).render(fields))
    if template.channel == "sms":
        if template.unaccented:
            body = sms.strip_diacritics(body)
        counted = sms.count(body)
        return Rendered(body=body, segments=counted.segments, encoding=counted.encoding)
    subject = " ".join(compiled(template.subject or "").render(fields).split())
    return Rendered(body=body, subject=subject)


def tidy(text: str) -> str:
    """Trailing spaces off, no more than one empty line in a row (what ``{% if %}``
    blocks leave), no leading or trailing blank lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept)


def email_html(subject: str, body: str) -> str:
    """The HTML part of an e-mail: the plain text, escaped, its paragraphs and links kept."""
    paragraphs = []
    for block in body.split("\n\n"):
        lines = [URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', str(escape(line)))
                 for line in block.splitlines()]
        paragraphs.append(f"<p>{'<br>'.join(lines)}</p>")
    return ("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(subject)}</title></head>\n<body style=\"font-family: sans-serif\">"
            f"\n{Markup(chr(10).join(paragraphs))}\n</body></html>\n")
