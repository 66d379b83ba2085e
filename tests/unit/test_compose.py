"""deploy/compose.yaml and its simulators' override (issue #15), checked without a
container engine: the files are read as compose reads them (``${VAR:-default}``,
``${VAR:?message}``, ``$$``, an override merged key by key), every variable an app
container is given is one motcua reads, and the containers' configurations pass the
checks the containers run (``motcua run``'s, then notify's own), nameko not started."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from nameko.cli.utils.config import load_config

from motcua import tokens

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SECRET = "s3cr3t-" + "x" * 40
# What an operator exports before `docker compose up` (the file's first lines).
OPERATOR = {"MOTCUA_JWT_SECRET": SECRET, "MOTCUA_PAYMENT_SECRET": SECRET + "-payment",
            "MOTCUA_POSTAL_VNPOST_SECRET": SECRET + "-vnpost",
            "MOTCUA_DB_PASSWORD": "db-password", "MOTCUA_AMQP_PASSWORD": "amqp-password"}
SIMULATED = OPERATOR | {"MOTCUA_NOTIFY_CALLBACK_SECRET": SECRET + "-receipts"}
VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}")


class ComposeLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                    yaml.composer.Composer, yaml.constructor.SafeConstructor,
                    yaml.resolver.Resolver):
    """yaml.SafeLoader as PyYAML makes it: nameko's config loader teaches SafeLoader
    itself to read ``${NAME}`` as its own variables, which compose files are not."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


class Missing(Exception):
    """A ``${VAR:?message}`` compose would stop at."""


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` with compose's variables replaced from ``env``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, how, word = match.groups()
        found = env.get(name)
        unset = found is None or (how or "").startswith(":") and found == ""
        if how and how.endswith("?") and unset:
            raise Missing(f"{name}: {word}")
        return word if how and how.endswith("-") and unset else (found or "")

    return VARIABLE.sub(one, value)


def merged(base: Any, override: Any) -> Any:
    """An override file over a compose file: mappings merged key by key, the rest replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        return base | {key: merged(base.get(key), item) for key, item in override.items()}
    return override


def compose(env: dict[str, str], *files: str) -> dict[str, Any]:
    raw = [yaml.load((DEPLOY / name).read_text(), ComposeLoader) for name in files]
    spec = raw[0]
    for layer in raw[1:]:
        spec = merged(spec, layer)
    return interpolate(spec, env)


def stack(env: dict[str, str] = SIMULATED) -> dict[str, dict[str, Any]]:
    return compose(env, "compose.yaml", "compose.simulators.yaml")["services"]


def app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The containers of motcua's image (the others are the engines' own images)."""
    return {name: s for name, s in services.items() if s.get("image", "").startswith("motcua:")}


def test_plain_up_needs_the_production_secrets_and_nothing_of_the_simulators():
    services = compose(OPERATOR, "compose.yaml")["services"]
    assert "notify-standins" not in services
    for name in OPERATOR:
        with pytest.raises(Missing, match=name):
            compose({k: v for k, v in OPERATOR.items() if k != name}, "compose.yaml")
    # compose interpolates every profile's services: nothing there may be required
    assert {"payment-simulator", "postal-simulator"} <= set(services)
    for name, service in app_services(services).items():
        env = service["environment"]
        assert env["MOTCUA_POSTAL_VNPOST_SECRET"] == OPERATOR["MOTCUA_POSTAL_VNPOST_SECRET"], name
        assert env["MOTCUA_CONFIG"] == "/app/deploy/config.production.yaml", name


def test_the_simulators_override_needs_the_receipts_secret():
    with pytest.raises(Missing, match="MOTCUA_NOTIFY_CALLBACK_SECRET"):
        stack(OPERATOR)


def read_by_motcua(config: Path) -> set[str]:
    """The variables a process running ``config`` reads: the file's ``${NAME...}`` and
    those the code reads itself; and libpq's PGPASSWORD."""
    names = set(re.findall(r"\$\{(\w+)", config.read_text())) | {"MOTCUA_CONFIG",
                                                                  "PGPASSWORD"}
    for path in [*ROOT.glob("motcua/**/*.py"), *ROOT.glob("services/**/*.py"),
                 *ROOT.glob("gateway/**/*.py")]:
        names |= set(re.findall(r"environ(?:\.get\(|\[)\"(MOTCUA_\w+)\"", path.read_text()))
    return names


def test_every_app_container_is_given_only_variables_motcua_reads():
    for name, service in app_services(stack()).items():
        env = service["environment"]
        config = ROOT / env["MOTCUA_CONFIG"].removeprefix("/app/")
        unknown = set(env) - read_by_motcua(config)
        assert not unknown, f"{name}: {sorted(unknown)} are read by nothing ({config.name})"


def container_check(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """``motcua run notify`` with the container's environment (its paths made this
    checkout's), stopped where it would exec nameko: there NotifyService's own start-up
    check runs instead, and the channels notify would send through are printed."""
    script = tmp_path / "run_notify.py"
    script.write_text(
        "import json, os, sys\n"
        "from motcua import cli\n"
        "def instead_of_nameko(path, argv):\n"
        "    from motcua.config import section\n"
        "    from services.notify import channels, settings\n"
        "    settings.enforce_production()  # NotifyService.setup's check\n"
        "    found = channels.from_config(section('notify'), settings.options().public_url)\n"
        "    print(json.dumps({'argv': argv[1:], 'secret': settings.options().callback_secret,\n"
        "                      'channels': {k: vars(c) | {'http': None}\n"
        "                                   for k, c in found.items()}}, default=str))\n"
        "    sys.exit(0)\n"
        "os.execv = instead_of_nameko\n"
        "sys.exit(cli.main(['run', 'notify']))\n")
    local = {key: value.replace("/app/", f"{ROOT}/") for key, value in env.items()}
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MOTCUA_") and k not in ("AMQP_URI", "PGPASSWORD")}
    return subprocess.run([sys.executable, str(script)], env=clean | local | {
        "PYTHONPATH": str(ROOT), "MOTCUA_ENV": "production"},  # the image's ENV
        cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_notify_under_the_simulators_passes_its_containers_checks_and_sends_to_the_standins(
        tmp_path):
    services = stack()
    notify, standins = services["notify"], services["notify-standins"]
    ran = container_check(notify["environment"], tmp_path)

    assert ran.returncode == 0, ran.stderr
    checked = json.loads(ran.stdout.splitlines()[-1])
    assert checked["argv"][-1] == "services.notify.service:NotifyService"
    email, sms, zalo = (checked["channels"][k] for k in ("email", "sms", "zalo"))
    assert (email["host"], email["port"], email["starttls"]) == ("notify-standins", 8025, False)
    assert sms["url"] == "http://notify-standins:8026/sms/send" and sms["api_key"]
    assert zalo["url"] == "http://notify-standins:8027/message/template"
    assert zalo["access_token"]
    assert checked["secret"] == SIMULATED["MOTCUA_NOTIFY_CALLBACK_SECRET"]

    # the stand-ins' container: where they listen and what they sign with are notify's
    with pytest.MonkeyPatch.context() as env:
        for key in [k for k in os.environ if k.startswith("MOTCUA_")]:
            env.delenv(key)
        for key, value in standins["environment"].items():
            env.setenv(key, value)
        config = load_config(open(ROOT / "deploy" / "config.yaml"))
    assert config["MOTCUA"]["ENV"] == "development"  # the stand-ins refuse production
    own = config["notify"]
    assert int(own["EMAIL"]["PORT"]) == email["port"]
    assert own["SMS"]["URL"] == sms["url"] and own["ZALO"]["URL"] == zalo["url"]
    assert own["CALLBACK_SECRET"] == checked["secret"]
    assert standins["entrypoint"] == ["python", "-m", "services.notify.standins"]
    command = standins["command"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    gateway_port = services["gateway"]["environment"]["MOTCUA_HTTP_PORT"]
    assert command[command.index("--receipts-url") + 1] == (
        f"http://gateway:{gateway_port}/api/v1/notifications/receipts")


@pytest.mark.parametrize("change, refused", [
    ({"MOTCUA_NOTIFY_CALLBACK_SECRET": "dev-only-notify-callback-secret-change-me"},
     "MOTCUA_NOTIFY_CALLBACK_SECRET is a development secret"),
    ({"MOTCUA_SMS_URL": "http://127.0.0.1:8026/sms/send"}, "notify.SMS points at this machine"),
    ({"MOTCUA_POSTAL_VNPOST_SECRET": "short"}, "MOTCUA_POSTAL_VNPOST_SECRET is shorter"),
])
def test_the_same_check_still_refuses_what_production_refuses(tmp_path, change, refused):
    ran = container_check(stack()["notify"]["environment"] | change, tmp_path)

    # refused before nameko starts: one line, no traceback (the kernel's check in
    # `motcua run` exits 1, notify's own 78)
    assert ran.returncode != 0 and not ran.stdout, ran.stdout + ran.stderr
    assert refused in ran.stderr and "Traceback" not in ran.stderr


def test_notify_without_the_override_starts_with_no_provider(tmp_path):
    ran = container_check(compose(OPERATOR, "compose.yaml")["services"]["notify"]
                          ["environment"], tmp_path)

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.splitlines()[-1])["channels"] == {}  # stored, waiting


def test_the_postal_simulator_mints_a_token_production_accepts_and_checks_vnposts_secret():
    simulator = stack()["postal-simulator"]
    script = simulator["entrypoint"][2]
    mint = re.search(r"\$\((motcua token [^)]*)\)", script).group(1).split()
    assert "exec python -m services.postal.simulator \"$@\"" in script
    env = {key: value.replace("/app/", f"{ROOT}/")
           for key, value in simulator["environment"].items()}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    minted = subprocess.run([sys.executable, "-c", "import sys; from motcua.cli import main; "
                             "sys.exit(main(sys.argv[1:]))", *mint[1:]], cwd=ROOT,
                            env=clean | env | {"PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)

    assert minted.returncode == 0, minted.stderr
    claims = tokens.verify(minted.stdout.strip(), OPERATOR["MOTCUA_JWT_SECRET"], None,
                           max_lifetime=timedelta(hours=12))
    assert (claims["role"], claims["operator"]) == ("postal", "vnpost")
    # its --secret's default: the secret postal signs VNPost's webhooks with
    from services.postal import simulator as postal_simulator

    class Started(Exception):
        pass

    def operator(gateway: str, token: str, secret: str, max_age: float) -> None:
        raise Started(secret)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTCUA_POSTAL_VNPOST_SECRET", env["MOTCUA_POSTAL_VNPOST_SECRET"])
        patch.setattr(postal_simulator, "Operator", operator)
        with pytest.raises(Started, match=OPERATOR["MOTCUA_POSTAL_VNPOST_SECRET"]):
            postal_simulator.main(["--token", "t"])
