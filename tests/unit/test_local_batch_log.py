"""The local runtime reads the function's 'batch processed' lines as one would in CloudWatch Logs."""

from __future__ import annotations

import logging

from localrt.runtime import BatchLogCollector


def line(message: str, **fields) -> logging.LogRecord:
    record = logging.LogRecord("journey", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(fields)
    return record


def test_totals_sum_every_batch_and_ignore_other_lines():
    collector = BatchLogCollector()
    collector.emit(line("batch processed", received=5, applied=4, rejected={"malformed": 1}, signals=2))
    collector.emit(line("delivery failed", received=100, applied=100))
    collector.emit(line("batch processed", received=3, applied=3, rejected={"malformed": 2, "too_large": 1}, sent=1))
    totals = collector.totals()
    assert totals["received"] == 8 and totals["applied"] == 7 and totals["signals"] == 2 and totals["sent"] == 1
    assert totals["rejected"] == {"malformed": 3, "too_large": 1}
    assert totals["invocations_logged"] == 2
    assert totals["duplicates"] == 0


def test_totals_are_a_copy():
    collector = BatchLogCollector()
    collector.emit(line("batch processed", received=1, rejected={"malformed": 1}))
    collector.totals()["rejected"]["malformed"] = 99
    assert collector.totals()["rejected"] == {"malformed": 1}
