"""Real-browser fixtures: the test app served over HTTP on 127.0.0.1 and
Debian's chromium driven by Playwright (sync API).

`browser_page` needs both the browser and the server, so pytest tears it down
(closing every connection the browser holds) before the server stops.
"""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr. A subclass also keeps make_server from switching
    werkzeug's own handler class to HTTP/1.1 for the rest of the test run."""

    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture
def live_server(app):
    """The `app` fixture's Flask app at http://127.0.0.1:<free port>.

    SESSION_COOKIE_SECURE stays True: chromium treats http://127.0.0.1 as a
    secure context and keeps Secure cookies set over it, so sign-in works
    without weakening the cookie settings.

    Threaded, because chromium opens speculative connections it may never
    send a request on; a single-threaded server would block reading one. The
    frozen clock is module-global in coenforce.clock, so the server threads
    see the same frozen time as the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="coenforce-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium launched once per session, or a skip if it is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian chromium not found at {CHROMIUM}; install it with apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh page (own cookies) whose relative URLs go to the live server."""
    context = chromium.new_context(base_url=live_server, locale="en-US", timezone_id="America/Los_Angeles",
                                   viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
