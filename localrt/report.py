"""The HTML report of a run: a summary table and charts (matplotlib, inlined as SVG; no network needed)."""

from __future__ import annotations

import html
import io
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#9D755D"]


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(title: str):
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    ax.set_title(title, fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def signals_over_time(signals: list[dict]) -> str:
    fig, ax = _figure("Struggle signals over time (per day, by type)")
    per_type: dict[str, Counter] = defaultdict(Counter)
    days = set()
    for s in signals:
        day = datetime.fromtimestamp(s["detectedAt"] / 1000, tz=UTC).strftime("%m-%d")
        per_type[s["signalType"]][day] += 1
        days.add(day)
    ordered = sorted(days)
    bottom = [0] * len(ordered)
    for color, (signal_type, counts) in zip(PALETTE, sorted(per_type.items()), strict=False):
        values = [counts[d] for d in ordered]
        ax.bar(ordered, values, bottom=bottom, label=signal_type, color=color)
        bottom = [b + v for b, v in zip(bottom, values, strict=False)]
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    return _svg(fig)


def hot_spots(signals: list[dict]) -> str:
    fig, ax = _figure("Hot spots: signals by feature")
    counts = Counter(s["featureId"] for s in signals).most_common(12)[::-1]
    ax.barh([c[0] for c in counts], [c[1] for c in counts], color=PALETTE[3])
    return _svg(fig)


def risk_distribution(risk: dict[str, dict], labels: dict[str, bool] | None) -> str:
    fig, ax = _figure("Exit-risk scores (LOW < 30 ≤ MEDIUM < 60 ≤ HIGH)")
    bins = list(range(0, 105, 5))
    if labels:
        churn = [r["exitRiskScore"] for u, r in risk.items() if labels.get(u)]
        stay = [r["exitRiskScore"] for u, r in risk.items() if u in labels and not labels[u]]
        ax.hist(
            [stay, churn],
            bins=bins,
            label=["retained (ground truth)", "churners (ground truth)"],
            color=[PALETTE[0], PALETTE[3]],
            stacked=True,
        )
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.hist([r["exitRiskScore"] for r in risk.values()], bins=bins, color=PALETTE[0])
    for x in (30, 60):
        ax.axvline(x, color="#999", linestyle="--", linewidth=1)
    return _svg(fig)


def interventions_by_channel(decisions: list[dict]) -> str:
    fig, ax = _figure("Interventions by channel and status")
    counts = Counter((d.get("status"), d.get("channel") or "none") for d in decisions)
    statuses = ["sent", "held_out", "suppressed"]
    channels = sorted({c for _, c in counts})
    width = 0.8 / len(statuses)
    for i, status in enumerate(statuses):
        ax.bar(
            [x + i * width for x in range(len(channels))],
            [counts[(status, c)] for c in channels],
            width,
            label=status,
            color=PALETTE[i],
        )
    ax.set_xticks([x + width for x in range(len(channels))], channels)
    ax.legend(fontsize=8, frameon=False)
    return _svg(fig)


def signal_outcomes(signals: list[dict]) -> str:
    fig, ax = _figure("What became of the signals")
    counts = Counter(s.get("outcome") or "undecided" for s in signals).most_common(10)
    ax.barh([name for name, _ in reversed(counts)], [n for _, n in reversed(counts)], color=PALETTE[3])
    ax.tick_params(axis="y", labelsize=7)
    return _svg(fig)


def latency_histogram(latencies: list[float]) -> str:
    fig, ax = _figure("Latency: event put → intervention delivered (ms)")
    if latencies:
        ax.hist(latencies, bins=40, color=PALETTE[4])
    ax.set_xlabel("ms")
    return _svg(fig)


def outcomes_chart(uplift: dict[str, dict]) -> str:
    fig, ax = _figure("Resolved within the window: treated vs holdout, by signal type")
    types = [t for t, row in sorted(uplift.items()) if row.get("treated")]
    treated = [uplift[t]["treated_rate"] or 0 for t in types]
    held = [uplift[t]["held_out_rate"] or 0 for t in types]
    xs = range(len(types))
    ax.bar([x - 0.2 for x in xs], treated, 0.4, label="treated", color=PALETTE[2])
    ax.bar([x + 0.2 for x in xs], held, 0.4, label="holdout", color=PALETTE[7])
    ax.set_xticks(list(xs), types, rotation=20, fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, frameon=False)
    return _svg(fig)


def uplift_chart(report: dict) -> str:
    """The API's uplift (GET /v1/analytics/uplift): treated − holdout resolution rate per signal type,
    with its 95% confidence interval (Newcombe's hybrid score), from the outcomes the apps reported."""
    fig, ax = _figure("Uplift (treated − holdout resolution rate), 95% CI, from the API")
    rows = [r for r in report.get("signalTypes", []) if r.get("difference") is not None and r.get("ci95")]
    types = [r["signalType"] for r in rows]
    differences = [r["difference"] for r in rows]
    below = [r["difference"] - r["ci95"]["low"] for r in rows]
    above = [r["ci95"]["high"] - r["difference"] for r in rows]
    xs = list(range(len(types)))
    ax.errorbar(xs, differences, yerr=[below, above], fmt="o", color=PALETTE[2], capsize=4)
    ax.axhline(0, color="#999", linewidth=0.8)
    labels = [f"{t}\n(n {r['treated']['n']} / {r['holdout']['n']})" for t, r in zip(types, rows, strict=True)]
    ax.set_xticks(xs, labels, rotation=20, fontsize=7)
    ax.set_ylim(-1, 1)
    return _svg(fig)


def ai_decisions_chart(ai: dict) -> str:
    """Who decided the escalations: the agent, the rules by fallback reason, or nobody yet."""
    fig, ax = _figure("AI decisions: who decided the escalated hard cases")
    rows = [("agent", ai.get("decided_by_agent", 0), PALETTE[2])]
    rows += [(f"fallback: {reason}", n, PALETTE[1]) for reason, n in ai.get("fallback_by_reason", {}).items()]
    rows.append(("still open", ai.get("still_open", 0), PALETTE[7]))
    ax.barh([r[0] for r in reversed(rows)], [r[1] for r in reversed(rows)], color=[r[2] for r in reversed(rows)])
    standin = ai.get("bedrock_standin") or {}
    if standin:
        ax.set_xlabel(f"escalations (Bedrock: {standin.get('label')}, mode {standin.get('mode')})", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    return _svg(fig)


def ai_decisions_section(ai: dict) -> str:
    """The report's "AI decisions" section: what played Bedrock, the figures, the first escalations' provenance."""
    standin = ai.get("bedrock_standin") or {}
    note = (
        f"<p><strong>Bedrock was played by the {html.escape(str(standin.get('label')))}</strong>, mode "
        f"<code>{html.escape(str(standin.get('mode')))}</code>: it follows Bedrock's API contract and calls the real action "
        "groups, but its choices are deterministic rules, not a model's. Calls: "
        f"<code>{html.escape(json.dumps(standin.get('calls', {})))}</code></p>"
        if standin
        else ""
    )
    figures = {k: v for k, v in ai.items() if k not in ("first_escalations", "bedrock_standin")}
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(json.dumps(v) if isinstance(v, dict | list) else str(v))}</code></td></tr>"
        for k, v in figures.items()
    )
    head = (
        "escalation",
        "reason",
        "signal",
        "decided",
        "rules' choice",
        "final decision",
        "model",
        "latency ms",
        "tokens in/out",
    )
    cells = []
    for e in ai.get("first_escalations", []):
        final = e.get("final") or {}
        decided = e.get("status") + (f" ({e['fallbackReason']})" if e.get("fallbackReason") else "")
        chosen = (
            f"{final.get('interventionType')} via {final.get('channel')}: {final.get('status')}, {final.get('decidedBy')}"
            if final
            else "none"
        )
        values = (
            e.get("escalationId"),
            e.get("reason"),
            e.get("signal"),
            decided,
            e.get("rulesChoice") or "none",
            chosen,
            e.get("model") or "",
            e.get("latencyMs") or "",
            f"{e['tokens']['input']} / {e['tokens']['output']}",
        )
        cells.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in values) + "</tr>")
    table = "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(cells)
    return f"<h2>AI decisions</h2>{note}<table>{rows}</table><h3>The first escalations, with their provenance</h3><table>{table}</table>"


def write_report(
    path: Path,
    summary: dict,
    signals: list[dict],
    decisions: list[dict],
    risk: dict[str, dict],
    labels: dict[str, bool] | None,
    latencies: list[float],
    title: str,
) -> Path:
    charts = [
        signals_over_time(signals),
        hot_spots(signals),
        risk_distribution(risk, labels),
        interventions_by_channel(decisions),
        signal_outcomes(signals),
        latency_histogram(latencies),
        uplift_chart(summary["uplift_api"])
        if summary.get("uplift_api", {}).get("signalTypes")
        else outcomes_chart(summary.get("uplift_by_signal_type", {})),
    ]
    ai = summary.get("ai_decisions")
    if ai:
        charts.append(ai_decisions_chart(ai))
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(json.dumps(v) if isinstance(v, (dict, list)) else str(v))}</code></td></tr>"
        for k, v in summary.items()
        if k != "ai_decisions"
    )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Journey orchestrator: {html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }}
table {{ border-collapse: collapse; font-size: 13px; }} th, td {{ text-align: left; padding: 3px 10px; border-bottom: 1px solid #eee; vertical-align: top; }}
code {{ white-space: pre-wrap; word-break: break-word; }}
.charts {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }} .charts svg {{ width: 100%; height: auto; }}
</style></head><body>
<h1>Intelligent User Journey Orchestrator: {html.escape(title)}</h1>
<p>Generated {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")} from what the pipeline stored on the local runtime.</p>
<div class="charts">{"".join(f"<div>{c}</div>" for c in charts)}</div>
{ai_decisions_section(ai) if ai else ""}
<h2>Summary</h2><table>{rows}</table>
</body></html>
"""
    path.write_text(body, encoding="utf-8")
    return path
