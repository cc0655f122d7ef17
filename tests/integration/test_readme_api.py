"""The README's curl examples of every HTTPS API route run as written against `make serve`'s API."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from journey.resources import ROUTES
from localrt.runtime import local_runtime
from localrt.serve import endpoints, start_api_server

pytestmark = pytest.mark.network_local
README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> str:
    text = README.read_text()
    block = text.split("<!-- api-examples:start -->", 1)[1].split("<!-- api-examples:end -->", 1)[0]
    return block.split("```bash\n", 1)[1].rsplit("```", 1)[0]


def test_every_route_has_an_example():
    script = examples()
    for route in ROUTES:
        pattern = re.sub(r"\\\{\w+\\\}", r"[^/?\" ]+", re.escape(route.path))
        method = "" if route.method == "GET" else f"-X {route.method} "
        assert re.search(re.escape(method) + r'"\$API' + pattern, script), f"no example of {route.method} {route.path}"


def test_the_examples_run_as_written(tmp_path):
    with local_runtime(tmp_path / "function.log", schedule="off") as rt:
        rt.start_polling()
        server = start_api_server(rt)
        try:
            (tmp_path / "out" / "serve").mkdir(parents=True)
            (tmp_path / "out" / "serve" / "endpoints.json").write_text(json.dumps(endpoints(server)))
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", examples()], cwd=tmp_path, capture_output=True, text=True, timeout=120
            )
        finally:
            server.stop()
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    ingest, shown, consent, insights, hotspots, uplift, export, erase = answers
    assert (ingest["accepted"], ingest["rejected"]) == (5, 1)
    assert [r["code"] for r in ingest["results"] if r["status"] == "rejected"] == ["schema_violation"]
    assert "requestId" in shown and "requestId" in consent and "requestId" in erase
    assert insights["userId"] == "demo-user-1" and insights["exitRisk"]["band"] in ("LOW", "MEDIUM", "HIGH")
    assert insights["openSignals"]  # the rage taps were detected
    assert hotspots["hotspots"] and "signalTypes" in uplift
    assert export["identity"]["externalId"] == "demo-user-1"
