"""The names setup gives the built-in access resources, and their extraction into the catalogue.

`pcloud sync` names one resource per API route after its view's docstring (the first line) and one group per
blueprint after its `description` (up to the first `：`/`，`/`（`): resources.service calls `route_name` and
`group_name` with the live objects. These names are stored in Chinese and shown through the `translated`
filter (docs/API.md, Languages), so they must be catalogue entries: `extract_api` is a Babel extraction method
(babel.cfg names it for pcloud/**/api.py) that reads the same docstrings and descriptions from the source and
yields exactly what these two functions store, plus everything Babel's own Python extraction finds there
(Babel uses only the first section of babel.cfg that matches a file).
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

NAME_MAX = 128  # sys_resource.name
_GROUP_END = re.compile(r"[：:，,（(]")


def route_name(doc: str | None, fallback: str) -> str:
    """A route's built-in resource name: the first line of its view's docstring, else `fallback` (the endpoint)."""
    doc = (doc or "").strip()
    summary = doc.splitlines()[0].strip() if doc else ""
    return (summary or fallback)[:NAME_MAX]


def group_name(description: str | None, fallback: str) -> str:
    """A blueprint's built-in group name: its description up to the first separator, else `fallback`."""
    description = (description or "").strip()
    if not description:
        return fallback[:NAME_MAX]
    return (_GROUP_END.split(description, maxsplit=1)[0].strip() or fallback)[:NAME_MAX]


def _names_in(source: str) -> Iterator[tuple[int, str]]:
    """(line, name) of every route docstring and blueprint description in an api.py: the top-level decorated
    functions (the views) and the `description=` of each Blueprint(...) call."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.decorator_list:
            name = route_name(ast.get_docstring(node, clean=False), "")
            if name:
                yield node.lineno, name
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")).endswith(
                "Blueprint"):
            for keyword in node.keywords:
                if keyword.arg == "description" and isinstance(keyword.value, ast.Constant) \
                        and isinstance(keyword.value.value, str):
                    name = group_name(keyword.value.value, "")
                    if name:
                        yield node.lineno, name


def extract_api(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
                options: dict[str, Any]) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method (babel.cfg): Python's usual strings plus the built-in resource names."""
    from babel.messages.extract import extract_python

    data = fileobj.read()
    yield from extract_python(io.BytesIO(data), keywords, comment_tags, options)
    for lineno, name in _names_in(data.decode(options.get("encoding", "utf-8"))):
        yield lineno, "", name, []
