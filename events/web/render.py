"""What every page shares: templates, the language, CSRF, connections and headers.

CSRF: a random token in a cookie (SameSite=Lax) that every form repeats in a hidden field
(the double-submit pattern); a POST whose field does not match the cookie is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import URL, FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from events.http import policy
from events.http.middleware import SECURITY_HEADERS
from events.queries import Connection
from events.web import content, flash, i18n
from events.web.i18n import LANG_NAMES, LANGS, N_, Lang

HERE = Path(__file__).parent
CSRF_COOKIE = "csrf"

environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


class CsrfFailed(Exception):
    """A form came back without the token of this browser (expired, or from another site)."""


@cache
def static_version(name: str) -> str:
    return hashlib.sha256((HERE / "static" / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version(name)}"


environment.globals["static"] = static_url
environment.filters["lang_attr"] = content.lang_attr


def lang_of(request: Request) -> Lang:
    cached = request.scope.get("events.lang")
    if cached is None:
        cached = i18n.negotiate(
            request.query_params.get("lang"),
            request.cookies.get(i18n.COOKIE),
            request.headers.get("accept-language"),
        )
        request.scope["events.lang"] = cached
    return cached  # type: ignore[no-any-return]


def gettext_of(request: Request) -> Any:
    return i18n.translations(lang_of(request)).gettext


def csrf_token(request: Request) -> str:
    token = request.scope.get("events.csrf") or request.cookies.get(CSRF_COOKIE)
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(24)
    request.scope["events.csrf"] = token
    return str(token)


async def form_of(request: Request) -> FormData:
    """The posted form, once its CSRF field matches this browser's cookie."""
    form = await request.form()
    sent = form.get("csrf")
    cookie = request.cookies.get(CSRF_COOKIE)
    if not (isinstance(sent, str) and cookie and hmac.compare_digest(sent, cookie)):
        raise CsrfFailed()
    policy.check_fields(form.multi_items(), "form", policy.FORM_MULTILINE)
    return form


def lang_links(request: Request) -> list[tuple[str, str, str, bool]]:
    """(lang, its own name, this page in that language, is current) for the switcher."""
    current = lang_of(request)
    return [
        (
            code,
            LANG_NAMES[code],
            _relative(request.url.include_query_params(lang=code)),
            code == current,
        )
        for code in LANGS
    ]


def _relative(url: URL) -> str:
    """A link on this site without scheme and host: never built from the Host header."""
    return url.path + (f"?{url.query}" if url.query else "")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    private: bool = False,
) -> Response:
    lang = lang_of(request)
    gettext = i18n.translations(lang).gettext
    values = {
        "flash": flash.texts(gettext, flash.take(request)),
        "request": request,
        "lang": lang,
        "_": gettext,
        "fmt": i18n.Formatter(lang),
        "csrf": csrf_token(request),
        "lang_links": lang_links(request),
        **(context or {}),
    }
    body = environment.get_template(template).render(values)
    response = HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
    return finish(request, response, private=private)


def finish(request: Request, response: Response, *, private: bool = False) -> Response:
    """Remember the chosen language and the CSRF token; keep private pages out of caches."""
    https = request.app.state.settings.base_url.startswith("https:")
    chosen = request.query_params.get("lang")
    if chosen in LANGS and request.cookies.get(i18n.COOKIE) != chosen:
        response.set_cookie(i18n.COOKIE, chosen, max_age=365 * 86400, samesite="lax", secure=https)
    if request.scope.get("events.flash_taken"):
        response.delete_cookie(flash.COOKIE, path="/")
    token = request.scope.get("events.csrf")
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=https)
    if private:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    else:
        response.headers.setdefault("Cache-Control", "no-cache")
    return response


def redirect(request: Request, url: str, *messages: tuple[str, int | None]) -> Response:
    """See other `url`; `messages` (flash.py's keys) are shown on it once."""
    return finish(request, flash.put(RedirectResponse(url, status_code=303), *messages))


def now(request: Request) -> datetime:
    value: datetime = request.app.state.clock()
    return value


@asynccontextmanager
async def connection(request: Request, *, write: bool = False) -> AsyncIterator[Connection]:
    db = request.app.state.db
    async with db.transaction() if write else db.connection() as conn:
        yield conn


def error_page(request: Request, status: int, title: str, detail: str | None = None) -> Response:
    return render(request, "error.html", {"title": title, "detail": detail}, status=status)


#: what an error code means to a person (its page title); translated where shown
ERROR_TITLES = {
    400: N_("Something is wrong with this request"),
    401: N_("Please sign in"),
    403: N_("You may not do this"),
    404: N_("Page not found"),
    405: N_("This page cannot do that"),
    409: N_("That is not possible right now"),
    413: N_("That is too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many attempts; please wait a minute and try again"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is busy; please try again shortly"),
}
