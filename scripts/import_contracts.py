"""An import-linter contract type the built-in ones lack: an allowlist of third-party packages.

``make lint`` uses it for ../shared/DESIGN.md's rule "contexts import only lower contexts, the standard
library, pydantic and orjson": a forbidden contract can only list what is not allowed, and the next
package someone imports would not be on the list.
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules


class AllowedExternalsContract(Contract):
    """Modules in ``source_modules`` (and their descendants) may import, from outside the project,
    only the standard library and the top-level packages in ``allowed_externals``.

    Needs ``include_external_packages = True``; ``internal_packages`` names the project's own root
    packages (everything else is external)."""

    type_name = "allowed_externals"

    source_modules = fields.SetField(subfield=fields.ModuleExpressionField())
    allowed_externals = fields.SetField(subfield=fields.StringField())
    internal_packages = fields.SetField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        allowed = set(self.allowed_externals) | set(sys.stdlib_module_names) | {"__future__"}  # type: ignore[arg-type]
        internal = set(self.internal_packages)  # type: ignore[arg-type]
        violations = []
        for source in module_expressions_to_modules(graph, self.source_modules):  # type: ignore[arg-type]
            for importer in sorted({source.name} | graph.find_descendants(source.name)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    top = imported.split(".")[0]
                    if top in internal or top in allowed:
                        continue
                    lines = sorted(d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported))
                    violations.append((importer, imported, lines))
        return ContractCheck(kept=not violations, warnings=[], metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported, lines in check.metadata["violations"]:
            where = ", ".join(f"l.{n}" for n in lines)
            output.print_error(f"{importer} imports {imported} ({where}), which is not allowed here", bold=False)
            output.new_line()
