"""Operator tools, run from the repository root (``python -m ops.redrive ...``).

They use the domain library's source (``layers/journey/python``), which is put on the path here so
the commands work without the Makefile's PYTHONPATH."""

import sys
from pathlib import Path

_LIBRARY = str(Path(__file__).resolve().parent.parent / "layers" / "journey" / "python")
if _LIBRARY not in sys.path:
    sys.path.insert(0, _LIBRARY)
