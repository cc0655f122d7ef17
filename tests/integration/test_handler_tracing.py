"""The X-Ray SDK is loaded only when the deployment asks for subsegments (it costs cold start)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HANDLER = Path(__file__).resolve().parents[2] / "functions" / "stream_processor" / "handler.py"


def _load(monkeypatch, trace_disabled: str):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", trace_disabled)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "test")
    spec = importlib.util.spec_from_file_location("handler_tracing_test", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_trace_aws_calls_the_handler_is_not_wrapped_by_tracer(monkeypatch):
    module = _load(monkeypatch, "true")
    plain = lambda event, context: event  # noqa: E731
    assert module._traced(plain) is plain


def test_with_trace_aws_calls_the_handler_runs_inside_a_tracer(monkeypatch):
    module = _load(monkeypatch, "false")
    plain = lambda event, context: {"seen": event}  # noqa: E731
    traced = module._traced(plain)
    assert traced is not plain
    assert "aws_xray_sdk.core" in sys.modules
    assert traced({"x": 1}, None) == {"seen": {"x": 1}}  # outside Lambda the tracer records nothing, but runs
