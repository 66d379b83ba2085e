"""One configuration for every process: a nameko YAML file with environment overrides.

The YAML is read with nameko's own loader, so ``${NAME:default}`` behaves the same
in ``nameko run``, in ``motcua`` commands and in tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import nameko
from nameko.cli.utils.config import load_config

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "deploy" / "config.yaml"
SERVICES = ("intake", "processing", "payment", "postal", "notify", "reports")

# Development secrets are recognisable on purpose; production refuses them.
DEV_SECRET_MARK = "dev-only"
MIN_SECRET_LENGTH = 32  # bytes
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: what a supervisor reads as 'fix the config'


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


def config_path() -> Path:
    return Path(os.environ.get("MOTCUA_CONFIG", DEFAULT_CONFIG))


def load(path: Path | str | None = None) -> dict[str, Any]:
    """Read the YAML (environment applied), check it, and install it as nameko's config."""
    with open(path or config_path()) as handle:
        data = load_config(handle)
    check(data)
    nameko.config.setup(data)
    return data


def check(data: dict[str, Any]) -> None:
    """Refuse development secrets in production, so a forgotten variable cannot ship."""
    settings = data.get("MOTCUA", {})
    if settings.get("ENV") != "production":
        return
    secrets = [(settings.get(key), env_name, True) for key, env_name in (
        ("JWT_SECRET", "MOTCUA_JWT_SECRET"), ("PAYMENT_SECRET", "MOTCUA_PAYMENT_SECRET"))]
    # A postal operator's webhook secret is needed only once it has a webhook (unset: none).
    secrets += [((spec or {}).get("WEBHOOK_SECRET"), f"MOTCUA_POSTAL_{name.upper()}_SECRET",
                 False)
                for name, spec in ((data.get("postal") or {}).get("OPERATORS") or {}).items()]
    for value, env_name, required in secrets:
        problem = secret_problem(value, required)
        if problem:
            raise ConfigError(f"{env_name} {problem}")


def secret_problem(value: Any, required: bool = True) -> str | None:
    """Why ``value`` cannot be a production secret ("is not set: production needs ..."),
    or None. An optional secret (``required=False``) may be unset, never weak."""
    secret = str(value or "").strip()
    if not secret and not required:
        return None
    if not secret:
        problem = "is not set"
    elif DEV_SECRET_MARK in secret:
        problem = "is a development secret"
    elif len(secret.encode()) < MIN_SECRET_LENGTH:
        problem = f"is shorter than {MIN_SECRET_LENGTH} bytes"
    else:
        return None
    return f"{problem}: production needs a random secret of at least {MIN_SECRET_LENGTH} bytes"


def enforce(data: dict[str, Any] | None = None) -> None:
    """``check`` for a process started by ``nameko run``, which never calls ``load``.

    A refused configuration stops the process with one line on stderr and exit code 78
    (EX_CONFIG), not a traceback: ``SystemExit`` leaves the eventlet hub and nameko's
    runner untouched on its way out.
    """
    try:
        check(nameko.config if data is None else data)
    except ConfigError as exc:
        sys.stderr.write(f"motcua: refusing to start: {exc}\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_CONFIG) from None


def settings() -> dict[str, Any]:
    """The MOTCUA section of the running config (secrets, retry delays, timezone)."""
    return nameko.config.get("MOTCUA", {})


def section(name: str) -> dict[str, Any]:
    """A service's own section (e.g. ``intake``: its DB_URL)."""
    return nameko.config.get(name, {})
