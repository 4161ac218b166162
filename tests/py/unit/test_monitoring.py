"""The dashboard and the alerting rules (deploy/grafana, deploy/prometheus) against the metrics.

promtool checks and unit-tests the rules; the dashboard JSON is what its generator writes
today; and every metric their expressions name is one app/metrics.py exports, so renaming
a metric without them fails here. promtool comes with Debian's `prometheus` package, which
`make test` (scripts/bootstrap.sh --with-pgtap) installs.
"""

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "deploy" / "grafana" / "dashboard.py"
DASHBOARD = ROOT / "deploy" / "grafana" / "booking.json"
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"

# PromQL words that look like a metric name but are not one (functions are told by their "(").
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
PROMQL_KEYWORDS |= {"group_left", "group_right", "inf", "nan", "atan2"}


def promtool(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail(
            "promtool not found: it checks deploy/prometheus/alerts.yml. Install Debian's `prometheus` "
            "package (scripts/bootstrap.sh --with-pgtap, which `make test` runs, does it as root)"
        )
    return subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def load_generator():
    spec = importlib.util.spec_from_file_location("booking_dashboard", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exported_metric_names() -> set[str]:
    """The sample names the service exports: METRIC_NAMES, and what the metric objects of
    app.metrics describe (a counter's _total, a histogram's _bucket, _count and _sum)."""
    from prometheus_client.metrics import MetricWrapperBase

    from app import metrics

    names = set(metrics.METRIC_NAMES)
    histograms = set()
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        for family in value.describe():
            if family.type == "counter":
                names.add(family.name + "_total")
            elif family.type == "histogram":
                histograms.add(family.name)
            else:
                names.add(family.name)
    names |= histograms
    names |= {h + suffix for h in histograms for suffix in ("_bucket", "_count", "_sum")}
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: strings, label matchers, ranges and
    grouping clauses taken out, what is left that is a name and not a call or a keyword."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    found = set()
    for match in re.finditer(r"(?<![\w.$])([A-Za-z_:][\w:]*+)(?!\s*\()", expr):
        if match.group(1).lower() not in PROMQL_KEYWORDS:
            found.add(match.group(1))
    return found


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def panels(board: dict) -> list[dict]:
    out = []
    for panel in board["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # a collapsed row keeps its panels inside
    return [p for p in out if p["type"] != "row"]


def dashboard_exprs(board: dict) -> list[str]:
    exprs = [t["expr"] for p in panels(board) for t in p.get("targets", [])]
    for variable in board["templating"]["list"]:
        query = variable.get("query")
        if variable["type"] == "query" and isinstance(query, str):
            exprs.extend(re.findall(r"label_values\(\s*([^,)]+)", query))
    return exprs


def rule_exprs() -> list[str]:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_promtool_checks_the_rules():
    done = promtool("check", "rules", "--lint=all", "--lint-fatal", str(RULES.relative_to(ROOT)))
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_unit_tests_of_the_rules_pass():
    done = promtool("test", "rules", str(RULE_TESTS.relative_to(ROOT)))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_test_that_fires_it_and_one_that_does_not():
    alerts = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    assert {"BookingLockTimeouts", "BookingHigh5xxRate", "WebhookBacklogOld", "BookingDatabaseDown"} <= alerts
    fired, quiet = set(), set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alerts - fired == set(), "alerts no test makes fire"
    assert alerts - quiet == set(), "alerts no test keeps quiet"
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            assert {"summary", "description"} <= set(rule.get("annotations", {})), rule["alert"]
            assert "README" in rule["annotations"]["description"], f"{rule['alert']}: say where to look"


def test_promtool_parses_every_dashboard_query(tmp_path):
    """The panels' PromQL, Grafana's variables filled in, as recording rules promtool checks."""
    exprs = [t["expr"] for p in panels(dashboard()) for t in p["targets"]]
    filled = [e.replace("$__rate_interval", "5m").replace("$route", ".*") for e in exprs]
    assert not [e for e in filled if "$" in e], "a Grafana variable the test does not fill in"
    rules = {
        "groups": [
            {"name": "dashboard", "rules": [{"record": f"dashboard:q{i}", "expr": e} for i, e in enumerate(filled)]}
        ]
    }
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    done = promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_committed_dashboard_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "booking.json"
    assert load_generator().main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == DASHBOARD.read_text(encoding="utf-8"), (
        "deploy/grafana/booking.json is stale: run .venv/bin/python deploy/grafana/dashboard.py"
    )


def test_the_dashboard_and_the_rules_name_only_exported_metrics():
    exported = exported_metric_names()
    exprs = dashboard_exprs(dashboard()) + rule_exprs()
    assert len(exprs) > 10
    for expr in exprs:
        names = metric_names(expr)
        assert names, f"no metric name found in {expr!r}"
        assert names <= exported, f"{sorted(names - exported)} in {expr!r} is not in app/metrics.py"


def test_the_name_parser_sees_through_promql():
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route=~"$route"}'
        "[$__rate_interval]))) / ignoring(x) group_left absent(foo_total offset 5m) and bool 1e3"
    )
    assert metric_names(expr) == {"http_request_duration_seconds_bucket", "foo_total"}
    assert metric_names('sum(rate(a_total{s=~"5.."}[5m])) * 60 > 1') == {"a_total"}
    with pytest.raises(AssertionError):
        assert metric_names("booking_renamed_total") <= exported_metric_names()


def test_the_dashboard_has_a_panel_per_topic():
    board = dashboard()
    by_title = {p["title"]: " ".join(t["expr"] for t in p.get("targets", [])) for p in panels(board)}
    topics = {
        "Booking outcomes": "booking_outcomes_total",
        "Conflict rate": 'booking_outcomes_total{outcome="slot_conflict"}',
        "Retries by reason": "booking_retries_total",
        "Lock wait p50 / p95 / p99": "booking_lock_wait_seconds_bucket",
        "Idempotency replays": "booking_idempotency_total",
        "Request latency p50 / p95 / p99 by route": "http_request_duration_seconds_bucket",
        "SSE subscribers": "booking_event_subscribers",
        "Webhook backlog and backlog age": "booking_webhook_backlog_age_seconds",
        "Webhook deliveries by outcome": "booking_webhook_deliveries_total",
        "Database up": "booking_database_up",
    }
    for title, needle in topics.items():
        assert title in by_title, f"no panel {title!r}"
        assert needle in by_title[title], f"panel {title!r} does not read {needle}"
    assert "booking_attempts_total" in by_title["Conflict rate"]
    assert "booking_webhook_backlog)" in by_title["Webhook backlog and backlog age"]
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}," in by_title["Lock wait p50 / p95 / p99"]
        assert f"histogram_quantile({q}," in by_title["Request latency p50 / p95 / p99 by route"]
    assert "by (le, route)" in by_title["Request latency p50 / p95 / p99 by route"]


def test_the_dashboard_reads_a_datasource_variable_not_a_fixed_uid():
    board = dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    refs = [p["datasource"] for p in panels(board)] + [t["datasource"] for p in panels(board) for t in p["targets"]]
    assert refs and all(ref == {"type": "prometheus", "uid": "${datasource}"} for ref in refs)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
