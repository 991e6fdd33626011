"""The layers hold: ``orchestration/defs`` wires what ``orchestration/lib`` builds, never the
other way round, and no area's definitions import another's (they meet in
``orchestration/definitions.py``); ``schemas`` is the bottom layer; the synthetic estate is a
tool beside the product, which never imports it (docs/architecture.md, "Layers").

Read from the source (every import statement, including those inside functions), so a
deferred import cannot slip past."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute module names a file imports (``from x import y`` counts as x and x.y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph(*packages: str) -> dict[str, set[str]]:
    return {
        module_name(path): imports(path)
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def offenders(edges: dict[str, set[str]], importer: str, imported: str) -> list[str]:
    """``importer -> imported`` edges, by module-name prefix."""
    return sorted(
        f"{src} imports {dst}"
        for src, dsts in edges.items()
        if src == importer or src.startswith(importer + ".")
        for dst in dsts
        if dst == imported or dst.startswith(imported + ".")
    )


EDGES = graph("orchestration", "schemas", "estate", "scripts")


def test_the_graph_is_read() -> None:
    # A parser that found nothing would pass every rule below.
    assert (
        "orchestration.lib.warehouse.translator"
        in EDGES["orchestration.defs.warehouse.definitions"]
    )
    assert len(EDGES) > 50


def test_lib_never_imports_defs() -> None:
    assert offenders(EDGES, "orchestration.lib", "orchestration.defs") == []
    assert offenders(EDGES, "orchestration.lib", "orchestration.definitions") == []


@pytest.mark.parametrize(
    "area",
    sorted(
        p.name
        for p in (ROOT / "orchestration" / "defs").iterdir()
        if p.is_dir() and p.name != "__pycache__"
    ),
)
def test_an_area_does_not_import_another_area(area: str) -> None:
    others = [
        edge
        for edge in offenders(EDGES, f"orchestration.defs.{area}", "orchestration.defs")
        if not edge.split(" imports ")[1].startswith(f"orchestration.defs.{area}")
    ]
    assert others == []


def test_schemas_are_the_bottom_layer() -> None:
    assert offenders(EDGES, "schemas", "orchestration") == []
    assert offenders(EDGES, "schemas", "estate") == []


def test_nothing_in_the_product_imports_the_estate() -> None:
    assert offenders(EDGES, "orchestration", "estate") == []
    assert offenders(EDGES, "schemas", "estate") == []
    assert offenders(EDGES, "estate", "orchestration") == []
