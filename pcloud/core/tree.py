"""Trees of API.md: nodes {id, parentId, name, label, children}, siblings by sequence then id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def build_tree(rows: Iterable[Any], to_node: Callable[[Any], dict[str, Any]],
               sort_key: Callable[[dict[str, Any]], Any] | None = None) -> list[dict[str, Any]]:
    """Nest flat rows; a node whose parent is absent (filtered out, or 0) becomes a root."""
    nodes = [to_node(row) for row in rows]
    by_id = {node["id"]: node for node in nodes}
    roots: list[dict[str, Any]] = []
    for node in nodes:
        node.setdefault("children", [])
        node.setdefault("label", node.get("name"))
    for node in nodes:
        parent = by_id.get(node.get("parentId") or 0)
        (parent["children"] if parent is not None and parent is not node else roots).append(node)
    key = sort_key or (lambda n: (n.get("sequence") or 0, n["id"]))

    def _sort(level: list[dict[str, Any]]) -> None:
        level.sort(key=key)
        for child in level:
            _sort(child["children"])

    _sort(roots)
    return roots


def walk(nodes: list[dict[str, Any]], depth: int = 0) -> Iterable[tuple[int, dict[str, Any]]]:
    """Depth-first (depth, node) pairs, for rendering a tree as indented rows."""
    for node in nodes:
        yield depth, node
        yield from walk(node.get("children", []), depth + 1)
