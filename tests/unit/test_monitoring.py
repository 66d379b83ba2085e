"""The monitoring files of deploy/ (issue #15): Prometheus's alert rules and scrape
configuration, and the Grafana dashboard, name only metrics motcua exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import motcua.metrics  # noqa: F401  (registers every motcua metric)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\bmotcua_[a-z_]+\b")
REQUIRED_ALERTS = {"MotcuaOutboxStuck", "MotcuaDeadLetter", "MotcuaServiceDown",
                   "MotcuaOverdueGrowing", "MotcuaSignatureFailures"}


def exported() -> set[str]:
    """Every sample name a scrape can show (histograms' _bucket/_count/_sum, _total)."""
    names = set()
    for family in REGISTRY.collect():
        if not family.name.startswith("motcua_"):
            continue
        suffixes = {"histogram": ("_bucket", "_count", "_sum"), "counter": ("_total",),
                    }.get(family.type, ("",))
        names |= {family.name + suffix for suffix in suffixes}
    return names


def balanced(expr: str) -> bool:
    depth = 0
    for char in expr:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_every_metric_the_issue_lists_is_exported():
    assert {"motcua_http_request_seconds_bucket", "motcua_worker_seconds_count",
            "motcua_outbox_oldest_seconds", "motcua_outbox_parked",
            "motcua_inbox_duplicates_total", "motcua_dead_letters_total",
            "motcua_dossiers_overdue", "motcua_dossiers_due_soon", "motcua_rows",
            "motcua_signature_failures_total"} <= exported()


def test_the_alert_rules_cover_what_the_issue_asks_and_name_real_metrics():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in alerts} == REQUIRED_ALERTS
    known = exported()
    for rule in alerts:
        assert balanced(rule["expr"]), rule["alert"]
        assert set(METRIC.findall(rule["expr"])) <= known, rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"]


def test_prometheus_scrapes_every_process_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    (job,) = config["scrape_configs"]
    (dns,) = job["dns_sd_configs"]
    assert set(dns["names"]) == {"gateway", "intake", "processing", "payment", "postal",
                                 "notify", "reports"}
    assert dns["port"] == 9100


def test_the_dashboard_is_valid_json_and_each_panel_names_real_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "motcua-dashboard.json").read_text())
    known = exported()
    shown = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            assert balanced(target["expr"]), panel["title"]
            names = set(METRIC.findall(target["expr"]))
            assert names and names <= known, panel["title"]
            shown |= names
    assert {"motcua_outbox_oldest_seconds", "motcua_dead_letters_total",
            "motcua_dossiers_overdue", "motcua_http_request_seconds_bucket"} <= shown
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
