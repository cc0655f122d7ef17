"""The X-Ray SDK is loaded only when the deployment asks for subsegments (it costs cold start)."""

from __future__ import annotations

import sys

from journey.lambda_kit.observability import traced


def test_without_trace_aws_calls_the_handler_is_not_wrapped_by_tracer(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    plain = lambda event, context: event  # noqa: E731
    assert traced(plain) is plain


def test_with_trace_aws_calls_the_handler_runs_inside_a_tracer(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "test")
    plain = lambda event, context: {"seen": event}  # noqa: E731
    wrapped = traced(plain)
    assert wrapped is not plain
    assert "aws_xray_sdk.core" in sys.modules
    assert wrapped({"x": 1}, None) == {"seen": {"x": 1}}  # outside Lambda the tracer records nothing, but runs
