"""Writes the HTTPS API's OpenAPI document, generated from the resolver the Lambda function serves.

    python scripts/openapi.py [--out docs/openapi.json] [--check]

``--check`` writes nothing and exits 1 when the file differs from what the code generates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from journey.lambda_kit.http import openapi_document

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="only check that the file is current")
    args = parser.parse_args(argv)
    document = openapi_document()
    current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
    if args.check:
        if current != document:
            print(f"{args.out} is not current: run make openapi", file=sys.stderr)
            return 1
        print(f"{args.out} is current")
        return 0
    if current != document:
        args.out.write_text(document, encoding="utf-8")
    print(f"wrote {args.out}" if current != document else f"{args.out} was current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
