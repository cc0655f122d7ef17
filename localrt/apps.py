"""Simulated apps that read their in-app inbox through the HTTPS API, as real apps do.

A real app learns it has a message (a silent push, a badge, the next screen it opens), pulls the
signed-in user's pending interventions (``GET /v1/users/{userId}/interventions?status=pending``),
shows them and reports what became of each (``POST /v1/interventions/{id}/outcome``: ``acted`` or
``dismissed``, each of which says it was shown: one report a message keeps the local AWS, one
process for every service, from becoming the demo's bottleneck). The simulated user is helped only by what they acted on: the
uplift the demo reports comes from outcomes the apps reported, not from the system's own record of
what it sent."""

from __future__ import annotations

import json
import queue
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

FIRST_PULL_AFTER_S = 0.3  # after the announcement: the send is announced before its batch is written
EMPTY_RETRIES = 3  # pulls again when the announced message is not in the inbox yet
ACT_SHARE = 0.8  # of the messages a user is shown, the share they act on (the rest they dismiss)


def call(base_url: str, method: str, path: str, token: str, body: dict | None = None, timeout: float = 10.0) -> tuple[int, dict]:
    """One request to the API on 127.0.0.1; returns (status, JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base_url}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # the local API, on 127.0.0.1
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text or b"{}")
        except ValueError:
            return exc.code, {"body": text.decode(errors="replace")}


@dataclass
class InboxApps:
    """Pulls the inbox of each user an in-app intervention was announced for, on worker threads."""

    base_url: str
    token_for: Callable[[str], str]  # the app's own user id -> a token signed in as them
    app_id_of: dict[str, str]  # pseudonymous user id (as on the stream) -> the app's own user id
    helped: set  # (userId, featureId) the user acted on: the simulator reads it
    seed: int = 7
    workers: int = 4
    counts: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)  # announcement received -> outcome reported
    _work: queue.Queue = field(default_factory=queue.Queue)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for n in range(self.workers):
            thread = threading.Thread(target=self._run, args=(random.Random(self.seed * 31 + n),), name=f"app-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def announced(self, decision: dict) -> None:
        """An in-app intervention was announced for the user: their app pulls its inbox."""
        self._work.put((decision["userId"], time.time()))

    def stop(self, timeout_s: float = 30.0) -> None:
        """Let the apps finish what was announced, then stop them."""
        deadline = time.time() + timeout_s
        while not self._work.empty() and time.time() < deadline:
            time.sleep(0.1)
        for _ in self._threads:
            self._work.put(None)
        for thread in self._threads:
            thread.join(timeout=max(0.1, deadline - time.time()))

    def _run(self, rng: random.Random) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            user_id, announced_at = item
            try:
                self._pull(user_id, announced_at, rng)
            except Exception as exc:  # noqa: BLE001 - an app's failure is counted, never the demo's end
                with self._lock:
                    self.errors[type(exc).__name__] += 1

    def _pull(self, user_id: str, announced_at: float, rng: random.Random) -> None:
        app_id = self.app_id_of.get(user_id)
        if app_id is None:
            with self._lock:
                self.errors["unknown_user"] += 1
            return
        token = self.token_for(app_id)
        time.sleep(
            max(0.0, announced_at + FIRST_PULL_AFTER_S - time.time())
        )  # the badge comes with the send, the batch's writes just after
        path = f"/v1/users/{quote(app_id, safe='')}/interventions?status=pending"
        for attempt in range(EMPTY_RETRIES + 1):
            status, body = call(self.base_url, "GET", path, token)
            with self._lock:
                self.counts["inbox_pulls"] += 1
            if status != 200:
                with self._lock:
                    self.errors[f"inbox_{status}"] += 1
                return
            if body.get("interventions") or attempt == EMPTY_RETRIES:
                break
            time.sleep(0.3)  # announced before its batch was written: the inbox has it a moment later
        if not body.get("interventions"):
            with self._lock:
                self.counts["inbox_empty"] += 1
        for item in body.get("interventions", []):
            iid = item["interventionId"]
            acted = rng.random() < ACT_SHARE
            for outcome in ("acted" if acted else "dismissed",):  # acting on it or dismissing it says it was shown
                code, _ = call(
                    self.base_url, "POST", f"/v1/interventions/{quote(iid, safe='')}/outcome", token, {"outcome": outcome}
                )
                with self._lock:
                    if code == 202:
                        self.counts[outcome] += 1
                    else:
                        self.errors[f"outcome_{code}"] += 1
            if acted:
                with self._lock:
                    self.helped.add((user_id, item["featureId"]))
            with self._lock:
                self.latencies_ms.append((time.time() - announced_at) * 1000)
