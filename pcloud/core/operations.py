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

import sys
from collections.abc import Callable, Sequence
from typing import Any

from marshmallow import fields

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


# ------------------------------------------------------------------------------------------------
# The standard record operations: page, create, modify, delete.
#
#     record_operations(blp, "Grade", title="职级",
#                       page=(service.page_grades, GradePageArgs, GradeOut, "职级分页列表（名称包含），按等级排序"),
#                       create=(service.create_grade, GradeCreateArgs, "新增职级；data 为新职级 id"),
#                       modify=(service.modify_grade, GradeModifyArgs, "修改职级"),
#                       delete=(service.delete_grade, "删除职级（软删除；仍有用户是该职级时 409）"))
#
# declares exactly what four `@operation(...)` functions declared by hand: the rules `{prefix}/page`,
# `/create`, `/modify` (PUT) and `/<int:id>/delete` (DELETE), the envelopes `GradePage`, `GradeCreate`,
# ..., the action titles `职级新增`/`职级修改`/`职级删除`, the endpoints `grades_api.page`, `.create`, ...
# (`{endpoint_prefix}page`, ...) and each docstring as the operation's Swagger summary.

# A module with other operations between its page and its writes (posts' /list) calls it twice, page first,
# so the paths keep their order in the OpenAPI document.
#
# (service call, body schema, out schema, docstring); the service call takes (args, page, page_size)
# and returns a core.paging.Page.
PageSpec = tuple[Callable[..., Any], Any, Any, str]
# (service call, body schema, docstring); the service call takes the arguments, returns the record.
WriteSpec = tuple[Callable[..., Any], Any, str]
# (service call, docstring); the service call takes the id.
DeleteSpec = tuple[Callable[[int], Any], str]


def _late(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Call the service function by its module and name at each request, as a hand-written view's
    `service.create_grade(...)` did, so that replacing it (a test's monkeypatch) is still seen."""
    module, name = sys.modules.get(fn.__module__), fn.__name__

    def call(*args: Any) -> Any:
        return getattr(module, name, fn)(*args)

    return call


def _named(fn: Callable[..., Any], name: str, doc: str) -> Callable[..., Any]:
    """The endpoint name and the Swagger text come from the function: give the made one both."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def record_operations(blp: Any, name: str, *, title: str = "", prefix: str = "", endpoint_prefix: str = "",
                      page: PageSpec | None = None, items: Callable[[list[Any]], Any] | None = None,
                      create: WriteSpec | None = None, modify: WriteSpec | None = None,
                      delete: DeleteSpec | None = None, key: Callable[[Any], Any] = lambda record: record.id,
                      key_data: Any = None) -> None:
    """Declare on `blp` the standard operations given (any of page, create, modify, delete) of the
    record `name` (envelope names `{name}Page`, ...) titled `title` in the action log (`{title}新增`,
    ...). `items` turns a page's records into its items (default: as the service gives them); create and
    modify answer `key(record)` (default the id) documented as `key_data` (default an integer)."""
    key_field = key_data if key_data is not None else fields.Integer()
    if page is not None:
        list_page, page_args, page_out, page_doc = page
        list_page = _late(list_page)
        to_items = _late(items) if items else None

        def page_view(args: dict[str, Any]) -> tuple[Any, Any]:
            result = list_page(args, args["page"], args["page_size"])
            return (to_items(result.items) if to_items else result.items), result

        operation(blp, f"{prefix}/page", f"{name}Page", page_out, paged=True, args=page_args)(
            _named(page_view, f"{endpoint_prefix}page", page_doc))
    for verb, spec, method, label in (("create", create, "POST", "新增"), ("modify", modify, "PUT", "修改")):
        if spec is not None:
            operation(blp, f"{prefix}/{verb}", f"{name}{verb.title()}", key_field, method=method,
                      title=f"{title}{label}", args=spec[1])(
                _named(_writer(spec[0], key), f"{endpoint_prefix}{verb}", spec[2]))
    if delete is not None:
        remove, delete_doc = delete
        remove = _late(remove)

        def delete_view(id: int) -> None:  # noqa: A002 - the documented path parameter
            remove(id)

        operation(blp, f"{prefix}/<int:id>/delete", f"{name}Delete", method="DELETE", title=f"{title}删除")(
            _named(delete_view, f"{endpoint_prefix}delete", delete_doc))


def _writer(write: Callable[..., Any], key: Callable[[Any], Any]) -> Callable[..., Any]:
    write = _late(write)

    def view(args: dict[str, Any]) -> Any:
        return key(write(args))

    return view
