"""Query parameters are checked, not guessed: an unknown or repeated one is a 422 naming it.

A misspelt filter (`?stat=sent`) silently ignored lists everything; a repeated one
(`?state=sent&state=viewed`) silently keeping the last value lists half. A parameter
declared as a list (`state: list[...]`) is the documented multi-value form and may repeat.

One dependency for a whole router (`APIRouter(dependencies=[STRICT_QUERY])`): it reads the
route's own declared query parameters, so no route lists its parameters twice.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic.fields import FieldInfo

from api.errors import ApiError

# Per route (routes are unhashable dataclasses; they live as long as the app).
_DECLARED: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


def _declared(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The route's query parameter names, and those of them that take several values."""
    known = _DECLARED.get(id(route))
    if known is None:
        known = _DECLARED[id(route)] = _walk(route)
    return known


def _walk(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    names: set[str] = set()
    multi: set[str] = set()
    pending: list[Dependant] = [route.dependant]
    while pending:  # the route's parameters and its dependencies' (paging...)
        dependant = pending.pop()
        pending.extend(dependant.dependencies)
        for field in dependant.query_params:
            names.add(field.alias)
            info: FieldInfo = field.field_info
            if _is_sequence(info.annotation):
                multi.add(field.alias)
    return frozenset(names), frozenset(multi)


def _is_sequence(annotation: object) -> bool:
    from fastapi._compat import field_annotation_is_sequence

    return bool(field_annotation_is_sequence(annotation))  # type: ignore[arg-type]


async def strict_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    names, multi = _declared(route)
    params = request.query_params
    for key in params:
        if key not in names:
            raise ApiError(
                422,
                "unknown_parameter",
                f"Unknown query parameter `{key}`"
                + (
                    f"; this endpoint takes {', '.join(sorted(names))}."
                    if names
                    else "; this endpoint takes none."
                ),
                parameter=key,
            )
        if key not in multi and len(params.getlist(key)) > 1:
            raise ApiError(
                422, "repeated_parameter", f"Query parameter `{key}` was given more than once.", parameter=key
            )


STRICT_QUERY = Depends(strict_query)
