"""The demo's exit risk that learns: the model trained on the first days, deployed, and judged on the rest.

At simulated day ``TRAIN_AT_DAY`` the demo stops its simulated clock and does what an operator
would: exports the journeys the system stored (the DynamoDB tables, in the format of a DynamoDB
export to S3), trains on them (``ml.journeys`` + ``ml.trainer``: labels are "no activity within
``HORIZON_DAYS`` after a cutoff", features folded only from what came before it), publishes the model
version to the models bucket and points the stream processor at it (a configuration change). The rest
of the fortnight is scored by the trained model; silent users are re-scored by the deadline timer.

What is judged, and against what:

* the trainer's own report: ROC AUC, PR AUC and the calibration table on users the model did not
  train on (history labels: the stored journeys say who came back);
* the live scores at the end of the run, of those same held-out users only, against the
  simulator's ground truth (the churner persona) — this is the demo's "held-out exit-risk AUC".

The simulator's re-engaged users (``Returns``): a silent user who receives a re-engagement comes back
for a short visit with probability ``RETURN_SHARE`` within hours. That is an assumption of the
simulation, not a finding: the demo shows that the uplift is *measured* (treated against holdout),
and what it measures follows from this assumption.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from journey.adapters.aws.models import S3ModelStore
from journey.app.quiet import QUIET_FEATURE
from journey.resources import TABLES, Env
from journey.risk.model import ExitRiskModel
from journey.risk.training import data_end, training_rows
from localrt.evaluation import roc_auc
from localrt.runtime import LocalRuntime
from localrt.simulator import DAY_MS, Burst, GroundTruth, SimUser, UserScript
from ml import report as measure
from ml.dataset import TrainingData
from ml.journeys import export_tables, load_export, training_data
from ml.report import BANDS
from ml.trainer import finite, fit

HORIZON_DAYS = 3  # churn label: no activity within this many days after a cutoff
CUTOFF_DAYS = (4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0)  # the cutoffs the training rows are taken at (simulated days from the start)
# the last cutoff plus the horizon, the first moment its labels are known, and a few hours: the export's
# data ends at the newest activity stored, which must pass cutoff + horizon for the last cutoff's rows
TRAIN_AT_DAY = 10.25
HOLDOUT = 0.3  # share of users the model does not train on
QUIET_AFTER_DAYS = (2, 4)  # the demo's silence thresholds (a fortnight; production defaults are 3, 7, 14 days)
RETURN_SHARE = 0.5  # the simulator's assumption: a re-engaged silent user comes back with this probability
HOUR_MS = 3_600_000
# after deployment: the held-out users at the latest cutoffs whose horizon the run's data covers (about
# days 10.5 to 11), scored by the deployed model from the journeys stored by the end of the run
LATER_CUTOFFS = 3
LATER_CUTOFF_STEP_MS = 6 * HOUR_MS


def demo_training_data(export: Path, t0: int) -> TrainingData:
    """The demo's training rows from its exported journeys: a row per active user at each of
    ``CUTOFF_DAYS`` after ``t0``, labelled by ``HORIZON_DAYS`` of silence after it."""
    cutoffs = [t0 + int(day * DAY_MS) for day in CUTOFF_DAYS]
    return training_data(export, horizon_ms=HORIZON_DAYS * DAY_MS, cutoffs_ms=cutoffs)


def demo_environment() -> dict[str, str]:
    """The processor's settings for the demo's fortnight (silence counted in days, not weeks)."""
    thresholds = ",".join(str(d * DAY_MS) for d in QUIET_AFTER_DAYS)
    return {"JOURNEY_RISK__QUIET_AFTER_MS": f"[{thresholds}]"}


class ModelTraining:
    """Train on the stored journeys, publish the version, deploy it to the stream processor."""

    def __init__(self, rt: LocalRuntime, out: Path, t0: int, seed: int) -> None:
        self.rt, self.out, self.t0, self.seed = rt, out, t0, seed
        self.summary: dict[str, Any] = {}
        self.heldout_users: set[str] = set()
        self.version = ""
        self.model: ExitRiskModel | None = None

    def __call__(self) -> None:
        started = time.time()
        say = lambda text: print(f"  [exit risk] {text}", file=sys.__stderr__, flush=True)  # noqa: E731
        say(f"day {TRAIN_AT_DAY}: waiting for the stream to drain, then exporting the stored journeys")
        self.rt.wait_until_drained(timeout_s=120, run_on=False)
        export = self.out / "journeys"
        exported = export_tables(self.rt.clients["dynamodb"], self._table_names(), export)
        try:
            data = demo_training_data(export, self.t0)
            say(f"{len(data.rows):,} training rows from {len(set(data.groups)):,} users; fitting")
            fitted = fit(data, holdout=HOLDOUT, seed=self.seed)
        except ValueError as exc:  # too few users or churners to learn from: the points model keeps scoring
            self.summary = {"error": f"not trained: {exc}", "export": {"dir": str(export), **exported}}
            say(f"not trained ({exc}); the points model keeps scoring")
            return
        model_dir = self.out / "model"
        fitted.write(model_dir)
        self.version = fitted.model["version"]
        self.model = ExitRiskModel.from_dict(fitted.model)
        bucket = os.environ.get(Env.MODELS_BUCKET)  # the processor's environment (the local runtime's process)
        if not bucket:
            raise RuntimeError(f"the template gives the stream processor no {Env.MODELS_BUCKET}: nowhere to publish the model")
        S3ModelStore(bucket, self.rt.clients["s3"]).publish(self.version, model_dir)
        self.rt.update_processor_configuration({Env.RISK_MODEL_VERSION: self.version})
        self.heldout_users = set(fitted.heldout_groups)
        metrics = fitted.report
        self.summary = {
            "version": self.version,
            "trained_at_day": TRAIN_AT_DAY,
            "cutoff_days": list(CUTOFF_DAYS),
            "horizon_days": HORIZON_DAYS,
            "export": {"dir": str(export), **exported},
            "training_rows": len(data.rows),
            "users": len(set(data.groups)),
            "heldout_users": len(self.heldout_users),
            "heldout_roc_auc": _rounded(metrics.get("rocAuc")),
            "heldout_pr_auc": _rounded(metrics.get("prAuc")),
            "heldout_calibration_by_band": metrics.get("bands"),
            "cross_validated": _rounded_figures(metrics.get("crossValidated")),
            "calibration": metrics.get("calibration"),
            "model_dir": str(model_dir),
            "seconds": round(time.time() - started, 1),
        }
        say(
            f"model {self.version}: held-out ROC AUC {_rounded(metrics.get('rocAuc'))}, published and deployed "
            f"({self.summary['seconds']} s; the simulated clock resumes)"
        )

    def _table_names(self) -> dict[str, str]:
        """The deployed tables by logical name (the export's folder names)."""
        return {spec.logical_id: self.rt.tables[spec.env] for spec in TABLES if spec.env in self.rt.tables}

    def after_deployment(self) -> dict[str, Any]:
        """The deployed model on the held-out users at cutoffs after it was trained (the latest
        ``LATER_CUTOFFS``, ``LATER_CUTOFF_STEP_MS`` apart, whose horizon the stored data covers), from the
        journeys stored by the end of the run, against their history labels (no activity in
        ``HORIZON_DAYS`` after the cutoff): the calibration table of the model as it serves, on users and
        days it never saw. Call once the stream has drained at the end."""
        if self.model is None or not self.heldout_users:
            return {}
        with tempfile.TemporaryDirectory() as export:
            export_tables(self.rt.clients["dynamodb"], self._table_names(), Path(export))
            journeys = load_export(Path(export))
        reach = data_end(journeys)  # every user's: the held-out users' own data may end sooner
        latest = reach - HORIZON_DAYS * DAY_MS
        trained = self.t0 + int(TRAIN_AT_DAY * DAY_MS)
        cutoffs = [c for k in range(LATER_CUTOFFS) if (c := latest - k * LATER_CUTOFF_STEP_MS) > trained]
        heldout = [journey for journey in journeys if journey.user_id in self.heldout_users]
        rows, labels, users, at = training_rows(heldout, cutoffs, HORIZON_DAYS * DAY_MS, self.model.vocabulary, reach)
        if not rows:
            day = round((latest - self.t0) / DAY_MS, 2)
            return {"error": f"no held-out user active before a cutoff after day {TRAIN_AT_DAY} (latest: day {day})"}
        predicted = np.array([self.model.probability(row) for row in rows])
        outcome = np.array(labels)
        return {
            "cutoff_days": sorted({round((c - self.t0) / DAY_MS, 2) for c in at}),
            "rows": len(rows),
            "users": len(set(users)),
            "roc_auc": _rounded(finite(measure.roc_auc(outcome, predicted))),  # None: one outcome only
            "calibration_by_band": measure.calibration_by_band(outcome, predicted, np.array(users)),
        }


def live_evaluation(risk: dict[str, dict], churner: dict[str, bool], training: ModelTraining) -> dict[str, Any]:
    """The final scores against the simulator's truth: on the held-out users (the model never saw them),
    per band: how many users, their mean score, and the share that are churners. The truth is the
    simulator's persona (a churner fades out after the first week), not the label the model learns (no
    activity in the next ``HORIZON_DAYS``; retained users go quiet for days too), so the bands show how
    the scores rank the personas, not calibration: that is the trainer's table, on history labels."""
    heldout = [u for u in training.heldout_users if u in risk and u in churner]
    by_model = [u for u in heldout if risk[u].get("riskModel") == training.version]
    scores = [int(risk[u]["exitRiskScore"]) for u in by_model]
    labels = [churner[u] for u in by_model]
    bands = []
    for name, low, high in BANDS:
        members = [(s, y) for s, y in zip(scores, labels, strict=True) if low <= s < high]
        bands.append(
            {
                "band": name,
                "users": len(members),
                "predicted_pct": round(sum(s for s, _ in members) / len(members), 1) if members else None,
                "observed_churner_pct": round(100 * sum(1 for _, y in members if y) / len(members), 1) if members else None,
            }
        )
    return {
        "heldout_users_scored_by_model": len(by_model),
        "heldout_users_still_on_points_model": len(heldout) - len(by_model),
        "live_heldout_auc_vs_simulator": round(roc_auc(scores, labels), 4) if len(set(labels)) == 2 else None,
        "live_bands": bands,
    }


class Returns:
    """Re-engaged silent users coming back for a short visit (see the module's doc: an assumption)."""

    def __init__(self, users: list[SimUser], rng: random.Random) -> None:
        self.by_id = {u.userId: u for u in users}
        self.rng = rng
        self.seen = 0
        self.visits = 0  # played
        self.skipped = 0  # the user was in a session, or their next one came first: no visit of its own

    def new_visits(self, receiver: Any) -> list[tuple[str, int, Burst]]:
        """Visits of users whose re-engagement arrived since the last call: (user id, when, the visit),
        on the user's own clock: a few hours after the decision. The caller plays a visit only where it
        fits the user's journey (between their sessions)."""
        received = receiver.received
        new, self.seen = received[self.seen : len(received)], len(received)
        visits = []
        for body in new:
            user = self.by_id.get(body.get("userId", ""))
            if user is None or body.get("featureId") != QUIET_FEATURE or body.get("channel") == "in_app":
                continue
            if self.rng.random() >= RETURN_SHARE:
                continue
            script = UserScript(user, random.Random(self.rng.getrandbits(64)), GroundTruth())
            script.t = int(body["decidedAt"]) + int(self.rng.uniform(0.5, 6.0) * HOUR_MS)
            visits.append((user.userId, script.t, Burst(script.session_start() + script.browse() + script.session_end(), 0.0)))
        return visits


def reengagement_summary(run: Any, returns: Returns) -> dict[str, Any]:
    """What became of the silent users the re-scoring flagged (``gone_quiet`` signals): decided how,
    sent on which channel, and resolved (active again within the window) treated against held out."""
    signals = [s for s in run.signals if s.get("signalType") == "gone_quiet"]
    decisions = [d for d in run.decisions if d.get("signalType") == "gone_quiet"]
    statuses = Counter(d.get("status") if d.get("status") != "suppressed" else f"suppressed:{d.get('reason')}" for d in decisions)
    api_rows = (run.summary.get("uplift_api") or {}).get("signalTypes") or []
    return {
        "signals": len(signals),
        "users": len({s["userId"] for s in signals}),
        "decisions_by_status": dict(sorted(statuses.items())),
        "sent_by_channel": dict(Counter(d.get("channel") for d in decisions if d.get("status") == "sent")),
        "treated_vs_holdout": (run.summary.get("uplift_by_signal_type") or {}).get("gone_quiet"),
        "uplift_api": next((row for row in api_rows if row.get("signalType") == "gone_quiet"), None),
        "simulated_return_visits": returns.visits,
        "simulated_returns_skipped": returns.skipped,
        "simulated_return_share": RETURN_SHARE,
    }


def _rounded_figures(report: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if report is None else {key: _rounded(value) for key, value in report.items()}


def _rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value
