"""Fails when an import rule of ../shared/DESIGN.md has no import-linter contract in .importlinter.

    python scripts/check_contracts.py [--config .importlinter]

import-linter checks the contracts it is given; this checks that none of them has gone missing.
"""

from __future__ import annotations

import argparse
import configparser
import sys

# contract id -> the rule of ../shared/DESIGN.md ("Layout (target)") it enforces
RULES = {
    "contexts-layered": "contexts import only lower contexts",
    "contexts-externals": "contexts import only the standard library, pydantic and orjson",
    "app-ports-only": "app/ sees ports, never boto3 or Powertools",
    "adapters-no-use-cases": "adapters/ never import use cases",
    "only-handlers-wire": "only a function's handler wires use cases, lambda_kit and adapters together",
    "infra-resources-only": "infra/ imports only journey.resources",
    "localrt-tests-only": "only tests import localrt (ops/ never does)",
    "no-ml-in-journey": "nothing in journey imports ml",
}


def missing_rules(config_path: str) -> list[str]:
    parser = configparser.ConfigParser()
    if not parser.read(config_path):
        return [f"no import-linter configuration at {config_path}"]
    present = {section.split(":", 2)[2] for section in parser.sections() if section.startswith("importlinter:contract:")}
    return [f"{contract_id}: {rule}" for contract_id, rule in RULES.items() if contract_id not in present]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=".importlinter")
    args = parser.parse_args(argv)
    missing = missing_rules(args.config)
    for line in missing:
        print(f"import rule without a contract in {args.config}: {line}", file=sys.stderr)
    if not missing:
        print(f"import rules: all {len(RULES)} have a contract in {args.config}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
