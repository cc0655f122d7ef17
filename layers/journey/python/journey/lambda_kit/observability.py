"""Process-wide settings every function shares: opt-in X-Ray subsegments and GC tuned for batch work."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import Any, TypeVar

from journey.resources import Env

Handler = TypeVar("Handler", bound=Callable[..., Any])


def traced(handler: Handler) -> Handler:
    """X-Ray subsegments for every AWS call, when the deployment asks for them (``-c traceAwsCalls=true``).
    Importing the X-Ray SDK costs ~300 ms of cold start, so it is loaded only then; Lambda's own
    active tracing (init, invocation, overhead) is on either way."""
    if os.environ.get(Env.TRACE_DISABLED, "false").strip().lower() in ("1", "true", "yes", "on"):
        return handler
    from aws_lambda_powertools import Tracer

    traced_handler: Handler = Tracer().capture_lambda_handler(capture_response=False)(handler)
    return traced_handler


def tune_gc_for_batch_work() -> None:
    """Called once at import by a function's handler module.

    The imported modules live for the whole sandbox: freezing keeps them out of every later GC pass.
    A batch allocates many short-lived, acyclic objects (events, items); collecting every 700
    allocations spends more time scanning than it frees. Reference counting still frees them at once."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
