"""The booking service's Grafana dashboard, as code: writes deploy/grafana/booking.json.

    .venv/bin/python deploy/grafana/dashboard.py            # rewrites booking.json beside this file
    .venv/bin/python deploy/grafana/dashboard.py -o FILE    # writes FILE instead

Built with Grafana's own SDK (grafana-foundation-sdk, the `test` extra of pyproject.toml).
The output is deterministic (fixed uid, panel ids and layout), so booking.json is committed
and tests/py/unit/test_monitoring.py fails when it differs from what this file generates,
or when an expression names a metric app/metrics.py does not export.

Every query reads the Prometheus data source chosen in the `datasource` variable (no
hard-coded uid), so the same JSON loads into any Grafana: import it in the UI or provision
it from a file (README, "Dashboards and alerts").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

OUTPUT = Path(__file__).with_name("booking.json")
UID = "barbershop-booking"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"  # Grafana's interval for rate(): at least four scrape intervals

# The alert thresholds of deploy/prometheus/alerts.yml, drawn as lines on the matching panels.
FIVE_XX_SHARE = 0.05
WEBHOOK_BACKLOG_AGE = 900


def query(expr: str, legend: str, ref: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DATASOURCE)


def queries(*pairs: tuple[str, str]) -> list[prometheus.Dataquery]:
    return [query(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def legend(*, table: bool = False) -> common_builder.VizLegendOptions:
    built = (
        common_builder.VizLegendOptions()
        .show_legend(True)
        .display_mode(common.LegendDisplayMode.TABLE if table else common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.RIGHT if table else common.LegendPlacement.BOTTOM)
    )
    return built.calcs(["mean", "max", "lastNotNull"]) if table else built


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=color) for value, color in steps])
    )


def graph(
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    targets: list[prometheus.Dataquery],
    *,
    width: int = 12,
    table: bool = False,
) -> timeseries.Panel:
    return (
        timeseries.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(targets)
        .unit(unit)
        .min(0)
        .span(width)
        .height(8)
        .line_width(1)
        .fill_opacity(10)
        .legend(legend(table=table))
        .tooltip(
            common_builder.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI).sort(common.SortOrder.DESCENDING)
        )
    )


def quantiles(metric: str, by: str, selector: str = "") -> list[tuple[str, str]]:
    """p50, p95 and p99 of a histogram, per value of the labels in `by` (besides le)."""
    group = f"le, {by}" if by else "le"
    label = " {{" + by + "}}" if by else ""
    return [
        (
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{selector}[{RATE}])))",
            f"p{round(q * 100)}{label}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def row(row_id: int, title: str) -> dashboard.Row:
    return dashboard.Row(title).id(row_id)


def build() -> dashboard.Dashboard:
    route_variable = (
        dashboard.QueryVariable("route")
        .id("route")
        .label("Route")
        .description("Route templates of http_request_duration_seconds")
        .datasource(DATASOURCE)
        .query("label_values(http_request_duration_seconds_count, route)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )
    board = (
        dashboard.Dashboard("Barbershop booking")
        .uid(UID)
        .description("Booking outcomes, locks, latency, event streams, webhooks and the database (app/metrics.py)")
        .tags(["barbershop", "booking"])
        .timezone("browser")
        .time("now-6h", "now")
        .refresh("30s")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .with_variable(
            dashboard.DatasourceVariable("datasource")
            .id("datasource")
            .label("Prometheus")
            .type("prometheus")
            .current(VariableOption(selected=True, text="default", value="default"))
        )
        .with_variable(route_variable)
    )

    board.with_row(row(101, "Bookings"))
    board.with_panel(
        graph(
            1,
            "Booking outcomes",
            "Booking operations per second by outcome: success, replayed (an idempotent retry), "
            "or the error's name from the catalogue (slot_conflict, version_mismatch, lock_timeout, ...).",
            "ops",
            queries((f"sum by (outcome) (rate(booking_outcomes_total[{RATE}]))", "{{outcome}}")),
        )
    )
    board.with_panel(
        graph(
            2,
            "Conflict rate",
            "Share of booking attempts refused because the slot was taken (23P01 slot_conflict), "
            "by operation and over all operations.",
            "percentunit",
            queries(
                (
                    f'sum by (operation) (rate(booking_outcomes_total{{outcome="slot_conflict"}}[{RATE}]))'
                    f" / sum by (operation) (rate(booking_attempts_total[{RATE}]))",
                    "{{operation}}",
                ),
                (
                    f'sum(rate(booking_outcomes_total{{outcome="slot_conflict"}}[{RATE}]))'
                    f" / sum(rate(booking_attempts_total[{RATE}]))",
                    "all operations",
                ),
            ),
        )
    )
    board.with_panel(
        graph(
            3,
            "Retries by reason",
            "Retries of the service after a transient failure (serialization failure, deadlock, lost connection).",
            "ops",
            queries((f"sum by (reason) (rate(booking_retries_total[{RATE}]))", "{{reason}}")),
        )
    )
    board.with_panel(
        graph(
            4,
            "Idempotency replays",
            "Requests with an Idempotency-Key: replayed (the first answer sent again) or new (miss).",
            "reqps",
            queries((f"sum by (result) (rate(booking_idempotency_total[{RATE}]))", "{{result}}")),
        )
    )

    board.with_row(row(102, "Locks and latency"))
    board.with_panel(
        graph(
            5,
            "Lock wait p50 / p95 / p99",
            "Time a booking waited for the barber's advisory slot lock, measured inside PostgreSQL; "
            "bounded by booking.lock_timeout (then 55P03 lock_timeout).",
            "s",
            queries(*quantiles("booking_lock_wait_seconds", "")),
            width=8,
        )
    )
    board.with_panel(
        graph(
            6,
            "Request latency p50 / p95 / p99 by route",
            "http_request_duration_seconds by route template (an event stream is measured to its first byte).",
            "s",
            queries(*quantiles("http_request_duration_seconds", "route", '{route=~"$route"}')),
            width=16,
            table=True,
        )
    )
    board.with_panel(
        graph(
            7,
            "HTTP 5xx share",
            "Share of requests answered 5xx (alert BookingHigh5xxRate above the red line).",
            "percentunit",
            queries(
                (
                    f'sum(rate(http_request_duration_seconds_count{{status=~"5.."}}[{RATE}]))'
                    f" / sum(rate(http_request_duration_seconds_count[{RATE}]))",
                    "5xx share",
                ),
            ),
            width=12,
        )
        .thresholds(thresholds((None, "green"), (FIVE_XX_SHARE, "red")))
        .thresholds_style(common_builder.GraphThresholdsStyleConfig().mode(common.GraphTresholdsStyleMode.LINE))
    )
    board.with_panel(
        graph(
            8,
            "Requests by status",
            "Requests per second by HTTP status.",
            "reqps",
            queries((f"sum by (status) (rate(http_request_duration_seconds_count[{RATE}]))", "{{status}}")),
            width=12,
        )
    )

    board.with_row(row(103, "Event streams and webhooks"))
    board.with_panel(
        graph(
            9,
            "SSE subscribers",
            "Open /barbers/{id}/events streams, over all processes.",
            "short",
            queries(("sum(booking_event_subscribers)", "open streams")),
            width=8,
        )
    )
    board.with_panel(
        graph(
            10,
            "Webhook backlog and backlog age",
            "Deliveries due and not delivered yet (left) and the age of the oldest (right); "
            "alert WebhookBacklogOld past the red line.",
            "short",
            queries(
                ("max(booking_webhook_backlog)", "backlog"),
                ("max(booking_webhook_backlog_age_seconds)", "oldest (age)"),
            ),
            width=8,
        ).override_by_name(
            "oldest (age)",
            [
                DynamicConfigValue(id_val="unit", value="s"),
                DynamicConfigValue(id_val="custom.axisPlacement", value="right"),
                DynamicConfigValue(
                    id_val="thresholds",
                    value=thresholds((None, "green"), (WEBHOOK_BACKLOG_AGE, "red")).build(),
                ),
                DynamicConfigValue(id_val="custom.thresholdsStyle", value={"mode": "line"}),
            ],
        )
    )
    board.with_panel(
        graph(
            11,
            "Webhook deliveries by outcome",
            "Delivery attempts per second: delivered, failed (to be retried) or dead (given up).",
            "ops",
            queries((f"sum by (outcome) (rate(booking_webhook_deliveries_total[{RATE}]))", "{{outcome}}")),
            width=8,
        )
    )

    board.with_row(row(104, "Database"))
    board.with_panel(
        stat.Panel()
        .id(12)
        .title("Database up")
        .description("booking_database_up per service instance: the SELECT 1 of the last /metrics scrape.")
        .datasource(DATASOURCE)
        .targets(queries(("min by (instance) (booking_database_up)", "{{instance}}")))
        .mappings(
            [
                ValueMap(
                    options={
                        "0": ValueMappingResult(text="down", color="red", index=0),
                        "1": ValueMappingResult(text="up", color="green", index=1),
                    }
                )
            ]
        )
        .thresholds(thresholds((None, "red"), (1, "green")))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .reduce_options(common_builder.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .no_value("no data: is the service scraped?")
        .span(6)
        .height(6)
    )
    board.with_panel(
        stat.Panel()
        .id(13)
        .title("Webhook subscriptions disabled")
        .description("Subscriptions the failure rule disabled; an admin re-enables them once the receiver is fixed.")
        .datasource(DATASOURCE)
        .targets(queries(("max(booking_webhook_subscriptions_disabled)", "disabled")))
        .thresholds(thresholds((None, "green"), (1, "orange")))
        .graph_mode(common.BigValueGraphMode.AREA)
        .reduce_options(common_builder.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .span(6)
        .height(6)
    )
    board.with_panel(
        graph(
            14,
            "Partitions unavailable",
            "Calls a cluster's partition did not answer (BK016), by partition (docs/SCALING.md).",
            "ops",
            queries(
                (f"sum by (partition) (rate(booking_partition_unavailable_total[{RATE}]))", "partition {{partition}}")
            ),
            width=6,
        ).height(6)
    )
    board.with_panel(
        graph(
            15,
            "Change feed lag",
            "WAL the change feed's replication slot keeps (-1: no slot, mode outbox).",
            "bytes",
            queries(("max(booking_change_feed_lag_bytes)", "slot lag")),
            width=6,
        ).height(6)
    )
    return board


def render() -> str:
    """The dashboard as JSON text, the same every time."""
    return json.dumps(build().build(), cls=JSONEncoder, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help=f"where to write (default {OUTPUT})")
    args = parser.parse_args(argv)
    args.output.write_text(render(), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
