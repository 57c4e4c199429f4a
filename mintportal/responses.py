"""Responses shared by the portal's views: htmx regions and file downloads.

One template per screen, each region htmx refreshes a named partial. A plain request gets the whole page;
an htmx request for a region gets only that ``{% partialdef %}``, plus any pending flash messages swapped
out of band into the layout's ``#flash`` area, so a confirmation shows whichever way the page was reached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django_htmx.middleware import HtmxDetails

from mintportal.cache import cache_key, cached_json
from mintportal.errors import NotVisible
from mintportal.mint import errors
from mintportal.mint.models import FileDownload
from mintportal.templatetags.portal import time_render_key


class HtmxHttpRequest(HttpRequest):
    """A request that has passed through django-htmx's middleware (for type checkers)."""

    htmx: HtmxDetails


def wants_region(request: HttpRequest) -> bool:
    """True for htmx requests that swap a region; history restores and boosted links need the whole page."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def flash_oob(request: HttpRequest) -> str:
    """The pending flash messages as an out-of-band swap into ``#flash`` (empty when there are none)."""
    pending = list(get_messages(request))
    if not pending:
        return ""
    return render_to_string("components/_messages.html", {"messages": pending, "oob": True}, request=request)


def render_region(
    request: HttpRequest,
    template_name: str,
    context: Mapping[str, Any],
    *,
    region: str,
    status: int = 200,
) -> HttpResponse:
    """Renders the whole page, or only ``template_name#region`` when htmx asks for a region.

    ``Vary: HX-Request`` keeps browsers and proxies from serving a cached fragment as a page.
    """
    if wants_region(request):
        response = render(request, f"{template_name}#{region}", context, status=status)
        oob = flash_oob(request)
        if oob:
            response.content += oob.encode()
    else:
        response = render(request, template_name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def render_region_cached(
    request: HttpRequest,
    template_name: str,
    *,
    region: str | None,
    page_region: str,
    build_context: Callable[[], Mapping[str, Any]],
    key_parts: Sequence[str],
    ttl: int,
    cacheable: bool = True,
) -> HttpResponse:
    """``render_region`` for a screen that is costly to build and the same for everyone who shares
    ``key_parts``: its HTML is cached for ``ttl`` seconds, and ``build_context()`` (the form, the queries)
    runs only on a miss.

    An htmx request for ``region`` gets that partial (a screen without one passes None); a whole page gets
    ``page_region`` (the partial holding everything but the layout, ``region`` included), which the template
    prints as ``region_html``. The layout around it (CSRF token, CSP nonce, the user's menu, flash messages)
    is rendered for every request, so nothing personal is cached; the partials must not show anything
    personal either. ``key_parts`` must name everything the HTML depends on besides the request's
    full path (which is added): typically a generation that moves on every write of the data shown, and
    the viewer's scope. ``cacheable=False`` renders the same way without the cache.
    """
    partial = region if region and wants_region(request) else page_region
    # Times are drawn in the viewer's zone and display (relative or absolute): both are part of the key.
    key = cache_key(*key_parts, time_render_key(), partial, "htmx" if getattr(request, "htmx", None) else "plain",
                    request.get_full_path())

    def load() -> str:
        return render_to_string(f"{template_name}#{partial}", build_context(), request=request)

    # A screen whose address holds a person's value (an exact search by national id) is never written to the cache.
    html: str = cached_json(key, ttl=ttl, load=load) if cacheable else load()
    if partial == region:
        response = HttpResponse(html + flash_oob(request))
    else:
        # Our own template's output, escaped when it was rendered.
        response = render(request, template_name, {"region_html": mark_safe(html)})
    patch_vary_headers(response, ("HX-Request",))
    return response


def mint_download(fetch: Callable[[], FileDownload]) -> HttpResponse:
    """A file from Mint as an attachment (``NotVisible``, the 404 page, when Mint has no such file).

    Never displayed inline, so a crafted HTML file cannot run in the portal's origin.
    """
    try:
        download = fetch()
    except errors.MintNotFoundError:
        raise NotVisible("Mint has no such file.") from None
    response = HttpResponse(download.content, content_type=download.content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True,
                                                                 filename=download.filename or "file")
    response["Content-Length"] = str(len(download.content))
    response["X-Content-Type-Options"] = "nosniff"
    # A sandboxing policy for the rare browser that renders an attachment anyway.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
