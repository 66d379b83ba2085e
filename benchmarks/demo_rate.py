"""The demo's end-to-end rate, next to what bare nameko RPC does on this machine.

Run by hand (the local RabbitMQ with its management plugin, as skeleton_throughput.py)::

    .venv/bin/python benchmarks/demo_rate.py [--dossiers N] [--concurrency C] [--pause S]

In one fresh RabbitMQ vhost and a temporary directory (both removed at the end):

(a) the baseline: round trips per second to ``benchmarks/echo_service.py`` over nameko
    RPC, one call at a time, then C in flight (skeleton_throughput's measurement);
(b) ``motcua up`` on a free port, with its notify stand-ins, a payment simulator and a
    postal simulator (``--auto``) on free ports too, and the rate limits off; then the
    demo's day (``motcua.demo.run_day``, what ``motcua demo`` runs): a warm-up of one
    dossier of each story, then N dossiers, C at once. Its rate: dossiers taken from
    submission to their end (returned, refused or withdrawn) per second.

It prints both rates and their ratios; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skeleton_throughput import (  # noqa: E402
    CONFIG_FILE,
    HOST,
    BenchmarkError,
    amqp_uri,
    failed_to_start,
    free_port,
    fresh_vhost,
    isolated_environment,
    log_tail,
    measure_baseline,
    start_process,
    stop_on_sigterm,
    stop_process,
    wait_healthy,
)

from motcua import config as motcua_config  # noqa: E402
from motcua import tokens  # noqa: E402
from motcua.demo import STORIES, DayOptions, DayResult, run_day, wait_listening  # noqa: E402

RPC_CALLS = 200  # baseline round trips per measurement
POSTAL_DELAY = "0.2"  # seconds between a simulated parcel's steps, as motcua up --demo


def measure_demo(uri: str, workdir: Path, env: dict[str, str], options: DayOptions
                 ) -> DayResult:
    """``motcua up`` and the simulators in ``workdir``, a warm-up day, then the day."""
    port, payment, postal = free_port(), free_port(), free_port()
    base_url = f"http://{HOST}:{port}"
    cfg = motcua_config.load(CONFIG_FILE)
    settings = cfg["MOTCUA"]
    env = env | {
        "AMQP_URI": uri, "MOTCUA_HTTP_PORT": str(port), "MOTCUA_CONFIG": str(CONFIG_FILE),
        "MOTCUA_PUBLIC_URL": base_url, "MOTCUA_PAYMENT_PROVIDER_URL": f"http://{HOST}:{payment}",
        "MOTCUA_RATE_LIMIT_PER_TOKEN": "0", "MOTCUA_RATE_LIMIT_PER_ADDRESS": "0",
        # notify's stand-ins (which motcua up starts) off the demo's fixed ports
        "MOTCUA_SMTP_PORT": str(free_port()),
        "MOTCUA_SMS_URL": f"http://{HOST}:{free_port()}/sms/send",
        "MOTCUA_ZALO_URL": f"http://{HOST}:{free_port()}/message/template"}
    logs = {name: workdir / f"{name}.log" for name in ("motcua-up", "payment", "postal")}
    system = start_process([sys.executable, "-m", "motcua.cli", "up"], workdir, env,
                           logs["motcua-up"])
    simulators = []
    try:
        wait_healthy(base_url, system, logs["motcua-up"])
        simulators.append(start_process([
            sys.executable, "-m", "services.payment.simulator", "--port", str(payment),
            "--callback-url", f"{base_url}/api/v1/payments/callback",
            "--secret", settings["PAYMENT_SECRET"]], workdir, env, logs["payment"]))
        simulators.append(start_process([
            sys.executable, "-m", "services.postal.simulator", "--port", str(postal),
            "--gateway", base_url, "--auto", "--delay", POSTAL_DELAY, "--token",
            tokens.issue(settings["JWT_SECRET"], settings.get("JWT_ISSUER", ""),
                         "simulator-vnpost", "postal", operator="vnpost")],
            workdir, env, logs["postal"]))
        for label, at in (("payment", payment), ("postal", postal)):
            wait_listening(f"http://{HOST}:{at}/", f"{label} simulator")
        options.payment_simulator = f"http://{HOST}:{payment}"
        print("warm-up: one dossier of each story ...", flush=True)
        run_day(base_url, cfg, DayOptions(dossiers=len(STORIES),
                                          concurrency=options.concurrency,
                                          payment_simulator=options.payment_simulator))
        print(f"the day: {options.dossiers} dossiers, {options.concurrency} at once ...",
              flush=True)
        result = run_day(base_url, cfg, options)
        if system.poll() is not None:
            raise failed_to_start(f"motcua up exited with {system.returncode} during the "
                                  "run", logs["motcua-up"])
        return result
    except SystemExit as exc:  # the demo's own message (a story that failed, a simulator)
        raise BenchmarkError(f"{exc.code}\nthe last lines of motcua up's output:\n"
                             f"{log_tail(logs['motcua-up'], 40)}") from None
    finally:
        for simulator in simulators:
            stop_process(simulator, signal.SIGTERM)
        stop_process(system, signal.SIGINT)


def report(options: DayOptions, load_before: float, rpc_one: float, rpc_many: float,
           day: DayResult) -> None:
    c = options.concurrency
    lives = [s.ended - s.started for s in day.stories if s.ended and s.started]
    print()
    print(f"demo rate: N={options.dossiers} dossiers, C={c} at once, pause "
          f"{options.pause:g} s, {os.cpu_count()} CPUs (load average {load_before:.2f} "
          "before the run), SQLite, broker on loopback")
    print(f"{'':52}{'per second':>11}   ratio")
    rows: list[tuple[str, float, str]] = [
        ("baseline RPC round trips/s, 1 caller", rpc_one, ""),
        (f"baseline RPC round trips/s, {c} in flight", rpc_many, ""),
        (f"demo dossiers submitted→ended/s, {c} at once", day.per_second,
         f"{day.per_second / rpc_one:.4f} x baseline 1 caller, "
         f"{day.per_second / rpc_many:.4f} x baseline {c} in flight"),
    ]
    for label, value, compared in rows:
        print(f"{label:52}{value:11.2f}   {compared}")
    print(f"\nthe day took {day.seconds:.1f} s; one dossier's life: median "
          f"{statistics.median(lives):.1f} s, longest {max(lives):.1f} s")
    print("end to end = from the first POST of the day until its last dossier was returned "
          "(delivered, by post), refused or withdrawn; each story waits for what the system "
          "does by events (payment, postal simulator), as a citizen and an officer would")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=48, metavar="N",
                        help="dossiers in the measured day (default 48: six of each story)")
    parser.add_argument("--concurrency", type=int, default=4, metavar="C",
                        help="dossiers driven at once, and RPC calls in flight (default 4)")
    parser.add_argument("--pause", type=float, default=0.0, metavar="SECONDS",
                        help="each actor's pause before a step (default 0)")
    args = parser.parse_args(argv)
    if args.dossiers < 1 or args.concurrency < 1 or args.pause < 0:
        parser.error("--dossiers and --concurrency must be at least 1, --pause at least 0")
    options = DayOptions(dossiers=args.dossiers, concurrency=args.concurrency,
                         pause=args.pause)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    env = isolated_environment()
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-demo-"))
    try:
        with fresh_vhost() as vhost:
            uri = amqp_uri(vhost)
            print(f"vhost {vhost}, work directory {workdir}", flush=True)
            print("(a) baseline: echo service over nameko RPC ...", flush=True)
            rpc_one, rpc_many = measure_baseline(uri, workdir, env, RPC_CALLS,
                                                 args.concurrency)
            print("(b) motcua up and its simulators, then the demo's day ...", flush=True)
            day = measure_demo(uri, workdir, env, options)
    except BenchmarkError as exc:
        print(f"benchmark: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(options, load_before, rpc_one, rpc_many, day)
    return 0


if __name__ == "__main__":
    sys.exit(main())
