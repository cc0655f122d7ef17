"""``make serve``: the local runtime with the HTTPS API on 127.0.0.1, until stopped (Ctrl-C).

python -m localrt.serve [--port 8787] [--out out/serve]

Writes ``<out>/endpoints.json``: the API's base URL, tokens signed in as two users of tenant
``demo`` and one of tenant ``other`` (locally issued JWTs, verified by the local authorizer that
stands in for API Gateway's), and how server-to-server (IAM) calls authenticate locally. The stream
processor and the deadline timer run behind it as in ``make demo``: events sent to the API are
detected, decided and delivered; the inbox, insights and analytics read what they wrote."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from journey.adapters.aws.dynamodb import TableNames
from journey.resources import (
    API_IDEMPOTENCY,
    CONTEXT_ANALYSES,
    IDENTITIES,
    INTERVENTIONS,
    STRUGGLE_SIGNALS,
    TTL_ATTRIBUTE,
    USER_EVENTS,
    USER_STATE,
    Env,
)
from localrt.api_local import LocalApi, api_ports_on, local_api
from localrt.runtime import LocalRuntime, local_runtime

# Locally only: the key of pseudonymous ids (in AWS a Secrets Manager secret no one reads).
LOCAL_PSEUDONYM_KEY = b"local-pseudonym-key: not a secret, this machine only"
HOST = "127.0.0.1"


@dataclass
class ApiServer:
    """The API served over HTTP on 127.0.0.1 (uvicorn, in a thread)."""

    api: LocalApi
    base_url: str
    _server: object
    _thread: threading.Thread

    def tokens(self) -> dict[str, str]:
        return self.api.tokens()

    def stop(self) -> None:
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout=10)


class SimulatedArrivalStream:
    """The API's Kinesis client when the API runs on simulated time (the demo): each record it puts
    arrives, for the event source mapping, at its own time (the API's simulated "now"), never past the
    stream's newest arrival, so the API's commands do not move the deadline timer's clock. Other calls
    go to the runtime's client as they are."""

    def __init__(self, rt: LocalRuntime) -> None:
        self._rt = rt
        self._kinesis = rt.clients["kinesis"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kinesis, name)

    def put_records(self, **params: Any) -> dict:
        rt = self._rt
        newest = max((m.newest_arrival_s or 0.0 for m in rt.mappings), default=0.0)
        with rt.arrivals.putting():
            response = self._kinesis.put_records(**params)
            given = []
            for record, result in zip(params["Records"], response.get("Records", []), strict=False):
                if result.get("SequenceNumber") and not result.get("ErrorCode"):
                    at = json.loads(record["Data"]).get("timestamp")
                    arrival = at / 1000 if isinstance(at, int) else None
                    given.append(
                        (
                            record["PartitionKey"],
                            result["SequenceNumber"],
                            min(arrival, newest) if arrival and newest else arrival,
                        )
                    )
            rt.arrivals.given(given)
        return response


def runtime_api(rt: LocalRuntime, secret: str | None = None, clock_ms: Callable[[], int] | None = None) -> LocalApi:
    """The API's ASGI app over the local runtime's AWS (moto): the same tables, stream and bucket the
    stream processor uses. ``clock_ms``: the API's "now" (the demo's simulated time; default the wall
    clock); with it, what the API puts on the stream arrives on that clock (:class:`SimulatedArrivalStream`)."""
    t = rt.tables
    ports = api_ports_on(
        rt.clients["dynamodb"],
        SimulatedArrivalStream(rt) if clock_ms is not None else rt.clients["kinesis"],
        rt.clients["s3"],
        tables=TableNames(t[USER_STATE.env], t[USER_EVENTS.env], t[STRUGGLE_SIGNALS.env], t[INTERVENTIONS.env]),
        identities_table=t[IDENTITIES.env],
        bucket=rt.quarantine_bucket,
        stream_name=rt.stream_name,
        key=LOCAL_PSEUDONYM_KEY,
        clock_ms=clock_ms,
        models_bucket=os.environ.get(Env.MODELS_BUCKET, ""),  # the processor's environment (the local runtime's process)
        **_context_analysis(rt),
    )
    answers = DynamoDBPersistenceLayer(t[API_IDEMPOTENCY.env], expiry_attr=TTL_ATTRIBUTE, boto3_client=rt.clients["dynamodb"])
    return local_api(ports, secret=secret, answers=answers)


def _context_analysis(rt: LocalRuntime) -> dict[str, Any]:
    """Nova's context analysis, played by the local stand-in for Bedrock (its Converse endpoint is the
    process's AWS_ENDPOINT_URL_BEDROCK_RUNTIME), cached in the ContextAnalyses table; none without it."""
    if rt.agent is None:
        return {}
    from journey.adapters.aws.bedrock_converse import NovaContextAnalyst
    from journey.adapters.aws.context_cache import DynamoAnalysisCache
    from journey.settings import load_settings

    cache = DynamoAnalysisCache(rt.tables[CONTEXT_ANALYSES.env], dynamodb=rt.clients["dynamodb"])
    return {"analyst": NovaContextAnalyst(budget_ms=load_settings().agent.context_budget_ms), "analysis_cache": cache}


def start_api_server(
    rt: LocalRuntime, port: int = 0, secret: str | None = None, clock_ms: Callable[[], int] | None = None
) -> ApiServer:
    """Serve the API on 127.0.0.1 (``port`` 0: a free one); returns once it accepts connections."""
    import uvicorn

    api = runtime_api(rt, secret, clock_ms)
    config = uvicorn.Config(api, host=HOST, port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api-server", daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            raise RuntimeError(f"the local API did not start on {HOST}:{port}")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return ApiServer(api, f"http://{HOST}:{bound}", server, thread)


def endpoints(server: ApiServer) -> dict:
    tokens = server.tokens()
    return {
        "api": server.base_url,
        "tokens": {name: tokens[name] for name in ("app_user", "other_user", "other_tenant")},
        "server": (
            "IAM (SigV4) routes take, locally, 'Authorization: Bearer <server_token>': a local token standing in for a "
            "signed request of the back end role arn:aws:iam::123456789012:role/journey-local-server (tenant demo)"
        ),
        "server_token": tokens["server"],
        "other_server_token": tokens["other_server"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8787, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--out", type=Path, default=Path("out/serve"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with local_runtime(args.out / "function.log") as rt:
        rt.start_polling()
        server = start_api_server(rt, args.port)
        path = args.out / "endpoints.json"
        path.write_text(json.dumps(endpoints(server), indent=2) + "\n")
        print(
            f"API on {server.base_url} (local AWS on {rt.endpoint}); tokens in {path}. Ctrl-C stops.",
            file=sys.__stdout__,
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
            print("stopped", file=sys.__stdout__, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
