"""How the server-rendered pages stop early: a dependency or helper raises, a handler answers.

The pages (buyer, owner space, public listings, report, ADV) do not pass "a value or a
response" around. What cannot go on raises:

* `PageRedirect(url)`: 303 See Other to `url` (the login form, the survey to fill in first);
* `PageError(status_code, template, context)`: that French error page with that status,
  rendered like every form page (CSRF token in the context, the CSRF cookie when new,
  `Cache-Control: no-store`), or as a plain template with `form_token=False`.

`install_page_handlers(app)` turns both into responses. JSON endpoints keep `ApiError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from api.security import csrf
from api.templating import templates


class PageRedirect(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


# Our pages' addresses are short; a longer one (a 100 kB id) is not kept for after the login:
# its Location header would be over what browsers and proxies accept (64 kB for http.client).
MAX_NEXT_LENGTH = 512


def login_url(login: str, here: str) -> str:
    """The login page, with `suite=` (where to go back once logged in) when `here` is short."""
    if len(here) > MAX_NEXT_LENGTH:
        return login
    return f"{login}?suite={quote(here, safe='')}"


class PageError(Exception):
    def __init__(
        self,
        status_code: int,
        template: str,
        context: dict[str, Any],
        *,
        form_token: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status_code} {template}")
        self.status_code = status_code
        self.template = template
        self.context = context
        self.form_token = form_token
        self.headers = dict(headers or {})


def install_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(PageRedirect)
    async def page_redirect(_request: Request, exc: PageRedirect) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        if exc.form_token:
            response = csrf.render_page(
                templates, request, request.app.state.settings, exc.template, exc.context, exc.status_code
            )
        else:
            response = templates.TemplateResponse(
                request, exc.template, exc.context, status_code=exc.status_code
            )
        response.headers.update(exc.headers)
        return response
