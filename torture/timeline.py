"""The torture run's timeline: operations and errors per second by kind, and the faults with
their times, drawn as SVG with matplotlib (test-output/torture-timeline.svg by default).

    python -m torture.timeline TIMELINE.json [--out PATH.svg]

redraws a figure from the JSON written next to it. The runner (torture.runner) records with
Timeline.attach(record, work, http): it wraps, on those objects only, the clients' operations
(each counted when it returns, failed or not), their error notes (an SQLSTATE or an HTTP
code, as Record.errors counts them) and Record.faults (a fault is marked when the injector
counts it: a kill when the sessions were terminated, a crash-restart when the server was
back, a partition crash when it went down), and the servers' crash() and start() (the time a
server was down, shaded). Nothing in torture.workload, torture.http_clients or torture.faults
changes. The same data always gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from harness import ROOT

DEFAULT = ROOT / "test-output" / "torture-timeline.svg"
SQL_OPS = ("book", "hold", "series", "reschedule", "cancel", "set_status")
HTTP_OPS = ("book", "reschedule", "cancel")
FAULT_STYLE = {  # kind: (color, legend label, labelled at each mark)
    "kills": ("#7f7f7f", "sessions killed (pg_terminate_backend)", False),
    "lock_timeouts": ("#e69f00", "lock-timeout window (5 ms, 1 s)", False),
    "slow_clients": ("#56b4e9", "slow client (holds a slot's locks)", False),
    "restarts": ("#c0392b", "crash-restart (marked when back up)", True),
    "partition_crashes": ("#c0392b", "partition crashed", True),
    "moves": ("#009e73", "shop moved", True),
    "move_failures": ("#000000", "shop move failed", True),
}
STYLE = {
    "svg.hashsalt": "barbershop-torture",
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


class FaultCounts(dict):
    """Record.faults that also tells the timeline when a count goes up (`faults[k] += n`)."""

    def __init__(self, counts: dict, timeline: Timeline):
        super().__init__(counts)
        self.timeline = timeline

    def __setitem__(self, key, value):
        grew = value - self.get(key, 0)
        super().__setitem__(key, value)
        if grew > 0:
            self.timeline.fault(key, grew)


class Timeline:
    """Operations and errors per second by kind, and the faults with their times (s since start)."""

    def __init__(self, start: float | None = None, duration: float | None = None):
        self.start = time.monotonic() if start is None else start
        self.duration = duration  # seconds of load; what follows is the final crash and the check
        self.ops: dict[str, dict[int, int]] = {}
        self.errors: dict[str, dict[int, int]] = {}
        self.faults: list[list] = []  # [seconds, kind, count]
        self.down: list[list] = []  # [seconds, seconds or None, server]: from a crash to the start after it

    def _second(self) -> int:
        return max(0, int(time.monotonic() - self.start))

    def op(self, kind: str) -> None:
        per = self.ops.setdefault(kind, {})
        s = self._second()
        per[s] = per.get(s, 0) + 1

    def error(self, kind: str) -> None:
        per = self.errors.setdefault(kind, {})
        s = self._second()
        per[s] = per.get(s, 0) + 1

    def fault(self, kind: str, count: int = 1) -> None:
        self.faults.append([self._now(), kind, count])

    def _now(self) -> float:
        return round(time.monotonic() - self.start, 2)

    @classmethod
    def attach(
        cls,
        record,
        work,
        http=None,
        *,
        servers: dict | None = None,
        start: float | None = None,
        duration: float | None = None,
    ) -> Timeline:
        """A timeline fed by `work` (torture.workload.Workload), `http` (HttpWorkload or None),
        `record.faults`, and the crash() and start() of `servers` (name: harness.cluster's
        server): their methods are wrapped on these instances only."""
        timeline = cls(start, duration)
        for name, server in (servers or {}).items():
            server.crash = timeline._went_down(server.crash, name)
            server.start = timeline._came_up(server.start, name)
        for prefix, client, kinds, note in (("SQL", work, SQL_OPS, "note_error"), ("HTTP", http, HTTP_OPS, "note")):
            if client is None:
                continue
            for name in kinds:
                setattr(client, name, timeline._counted(getattr(client, name), f"{prefix} {name.replace('_', ' ')}"))
            setattr(client, note, timeline._noted(getattr(client, note)))
        record.faults = FaultCounts(record.faults, timeline)
        return timeline

    def _counted(self, method, kind: str):
        async def counted(*args, **kwargs):
            try:
                return await method(*args, **kwargs)
            finally:
                self.op(kind)

        return counted

    def _went_down(self, method, name: str):
        def crash(*args, **kwargs):
            self.down.append([self._now(), None, name])
            return method(*args, **kwargs)

        return crash

    def _came_up(self, method, name: str):
        def start(*args, **kwargs):
            result = method(*args, **kwargs)
            for span in self.down:
                if span[2] == name and span[1] is None:
                    span[1] = self._now()
            return result

        return start

    def _noted(self, method):
        def noted(code: str) -> None:
            method(code)
            self.error(code)

        return noted

    def to_dict(self, title: str = "") -> dict:
        seconds = 1 + max(
            [int(self.duration or 0) - 1, *(s for per in [*self.ops.values(), *self.errors.values()] for s in per)],
            default=0,
        )

        def series(counts: dict[str, dict[int, int]]) -> dict[str, list[int]]:
            return {k: [per.get(s, 0) for s in range(seconds)] for k, per in sorted(counts.items())}

        return {
            "title": title,
            "seconds": seconds,
            "duration": self.duration,
            "ops": series(self.ops),
            "errors": series(self.errors),
            "faults": self.faults,
            "down": self.down,
        }

    def write(self, path: Path | str = DEFAULT, title: str = "") -> Path | None:
        """The figure at `path` and its data next to it (.json); None without matplotlib."""
        path = Path(path)
        data = self.to_dict(title)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
        try:
            draw(data, path)
        except ImportError as e:  # matplotlib is a dev dependency
            print(f"torture: no timeline figure: {e}", file=sys.stderr)
            return None
        return path


def _stacked(ax, x: list[int], series: dict[str, list[int]], colors) -> None:
    """Stacked steps, one band per series (each second's count drawn over [s, s + 1))."""
    below = [0] * len(x)
    for i, (kind, values) in enumerate(series.items()):
        above = [b + v for b, v in zip(below, values, strict=True)]
        ax.fill_between(
            [*x, x[-1] + 1], [*below, below[-1]], [*above, above[-1]], step="post", color=colors(i), label=kind, lw=0
        )
        below = above


def draw(data: dict, path: Path) -> Path:
    """The timeline figure of `data` (Timeline.to_dict()) as SVG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    seconds = max(1, data["seconds"])
    x = list(range(seconds))
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(
            2, 1, figsize=(11, 6.8), sharex=True, gridspec_kw={"height_ratios": [3, 2], "hspace": 0.12}
        )
        fig.suptitle(data.get("title") or "Torture run", x=0.01, ha="left", fontsize=11, fontweight="bold")
        ops_colors = plt.get_cmap("tab10")
        err_colors = plt.get_cmap("tab20")
        if data["ops"]:
            _stacked(top, x, data["ops"], ops_colors)
        if data["errors"]:
            _stacked(bottom, x, data["errors"], err_colors)
        else:
            bottom.text(0.5, 0.5, "no errors", transform=bottom.transAxes, ha="center", color="#555555")
        top.set_ylabel("operations per second")
        top.set_title("Operations per second by kind (stacked; a failed operation counts)", fontsize=9, loc="left")
        bottom.set_ylabel("errors per second")
        bottom.set_title(
            "Errors per second by kind (SQLSTATE or HTTP answer, as Record.errors counts them: the documented "
            "refusals too; stacked)",
            fontsize=9,
            loc="left",
        )
        bottom.set_xlabel("seconds since the load started")
        ops_legend = top.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False, fontsize=7.5)
        bottom.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), frameon=False, fontsize=7.5, ncols=1)

        # The faults: a vertical mark each, on both panels; the rare ones labelled.
        seen = []
        for t, kind, count in data["faults"]:
            color, label, labelled = FAULT_STYLE.get(kind, ("#000000", kind, True))
            for ax in (top, bottom):
                ax.axvline(
                    t, color=color, linewidth=0.8 if labelled else 0.6, alpha=0.9 if labelled else 0.55, zorder=3
                )
            if labelled:
                top.text(
                    t,
                    1.0,
                    f" {label.split(' (')[0]}" + (f" x{count}" if count > 1 else ""),
                    transform=top.get_xaxis_transform(),
                    rotation=90,
                    va="top",
                    ha="right",
                    fontsize=6.5,
                    color=color,
                )
            if kind not in seen:
                seen.append(kind)
        handles = [
            Line2D([], [], color=FAULT_STYLE.get(k, ("#000000",))[0], label=FAULT_STYLE.get(k, ("", k))[1])
            for k in seen
        ]
        for t0, t1, _ in data.get("down", []):
            for ax in (top, bottom):
                ax.axvspan(t0, seconds if t1 is None else t1, color="#c0392b", alpha=0.1, lw=0, zorder=0)
        if data.get("down"):
            handles.append(Patch(color="#c0392b", alpha=0.1, label="server down (crash to restarted)"))
        if handles:
            top.add_artist(ops_legend)
            top.legend(
                handles=handles,
                title="faults",
                loc="lower left",
                bbox_to_anchor=(1.005, 0.0),
                frameon=False,
                fontsize=7.5,
                title_fontsize=8,
            )
        if data.get("duration") and data["duration"] < seconds:
            for ax in (top, bottom):
                ax.axvspan(data["duration"], seconds, color="#f2f2f2", zorder=0)
            top.text(
                data["duration"],
                0.5,
                " load over: last crash-restart, check",
                transform=top.get_xaxis_transform(),
                fontsize=7,
                color="#555555",
                rotation=90,
                va="center",
            )
        for ax in (top, bottom):
            ax.set_xlim(0, seconds)
            ax.set_ylim(bottom=0)
            ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
            ax.set_axisbelow(True)
        fig.subplots_adjust(left=0.07, right=0.74, top=0.92, bottom=0.08)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fig.savefig(tmp, format="svg", metadata={"Date": None})
        plt.close(fig)
        tmp.replace(path)  # two runs writing the same default path never leave half a file
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m torture.timeline", description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="the .json a torture run wrote next to its timeline")
    p.add_argument("--out", type=Path, help="the SVG (default: the .json's path with .svg)")
    args = p.parse_args(argv)
    print(draw(json.loads(args.data.read_text()), args.out or args.data.with_suffix(".svg")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
