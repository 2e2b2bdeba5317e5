"""One declaration per API operation: its route, its action title, its envelope and its arguments.

    @operation(blp, "/modify", "GradeModify", fields.Integer(), method="PUT", title="职级修改", args=GradeModifyArgs)

stands for the four decorators every api.py used to stack, in the same order, so the OpenAPI document,
the route table and the action log see exactly what they saw before:

    @blp.route("/modify", methods=["PUT"])
    @action("职级修改")
    @respond(blp, "GradeModify", fields.Integer())
    @blp.arguments(GradeModifyArgs)

A route that needs something else (a second argument source, a file response, @public) keeps the
decorators written out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pcloud.core.envelope import respond
from pcloud.core.recorder import action


def operation(blp: Any, rule: str, name: str, data: Any = None, *, method: str = "POST",
              methods: Sequence[str] | None = None, title: str | None = None, args: Any = None,
              location: str | None = None, many: bool = False, paged: bool = False,
              endpoint: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `rule` on `blp` for `method` (or `methods`): the envelope named `name` around `data`
    (`many`/`paged` lists), `args` validated from the body (or `location`), and, for a mutating
    operation, its `title` in the action log."""
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        view = fn
        if args is not None:
            view = blp.arguments(args, **({"location": location} if location else {}))(view)
        view = respond(blp, name, data, many=many, paged=paged)(view)
        if title:
            view = action(title)(view)
        route: dict[str, Any] = {"methods": list(methods or [method])}
        if endpoint:
            route["endpoint"] = endpoint
        return blp.route(rule, **route)(view)

    return decorator
