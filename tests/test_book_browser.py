"""Browser test of the built book (``make book`` first; ``make test`` does both).

Serves ``_build/html`` on 127.0.0.1 and opens every HTML page in headless
Chromium (Debian's ``chromium``, installed by ``make browser-deps``), driven
through the Chrome DevTools Protocol with ``websocket-client``. It checks that

- no page logs a JavaScript error or throws an uncaught exception,
- no request fails and none goes to a host other than the local server
  (the book must work offline; Chromium cannot resolve other hosts here),
- every page with math has it typeset by the local MathJax,
- every ``<img>`` loads (``naturalWidth > 0``),
- every link to a file of the book resolves (downloads included),
- the search page finds a term,

and saves screenshots of two pages into ``_build/screenshots/``. It skips only
when ``_build/html`` does not exist.
"""

from __future__ import annotations

import base64
import functools
import http.server
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
# Pages to photograph (relative to _build/html) and the file names to use.
# The second shows the first figure of the data chapter (scrolled into view).
SCREENSHOT_PAGES = {"book/intro.html": "intro.png", "book/data.html": "data.png"}
SEARCH_TERM = "MovieLens"
# The released student notebooks and the book pages that offer them.
STUDENT_NOTEBOOKS = {
    "book/exercises/mf.html": ROOT / "exercises" / "mf" / "mf.ipynb",
    "book/exercises/deep.html": ROOT / "exercises" / "deep" / "deep.ipynb",
}
PAGE_TIMEOUT = 60.0  # seconds for one page to load, typeset and go quiet
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


# --------------------------------------------------------------------------
# A local web server for _build/html


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: fewer connections per page

    def log_message(self, format, *args):  # noqa: A002 - keep pytest output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    # The default listen backlog (5) can overflow when Chromium opens many
    # connections at once on a busy machine, which would look like a broken page.
    request_queue_size = 128
    daemon_threads = True


@pytest.fixture(scope="module")
def site():
    """Base URL of _build/html served on 127.0.0.1 (skips if the book is not built)."""
    if not HTML.is_dir():
        pytest.skip(f"{HTML.relative_to(ROOT)} does not exist: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------
# A minimal Chrome DevTools Protocol client


class CDPError(RuntimeError):
    pass


class Chromium:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    FLAGS = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-quic",
        "--mute-audio",
        "--hide-scrollbars",
        # Any host but the local server is unresolvable: the book must not need it.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        "--remote-debugging-port=0",
        "--remote-allow-origins=*",
        "--window-size=1280,900",
    ]

    def __init__(self, executable: str):
        import websocket  # websocket-client, a test dependency

        self._profile = tempfile.mkdtemp(prefix="book-browser-")
        self._proc = subprocess.Popen(
            [executable, *self.FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            port = self._devtools_port()
            page_ws = self._page_websocket(port)
            self._ws = websocket.create_connection(page_ws, timeout=PAGE_TIMEOUT, suppress_origin=True)
        except BaseException:
            self.close()
            raise
        self._ids = itertools.count(1)
        self.events: list[dict] = []

    def _devtools_port(self) -> int:
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                stderr = self._proc.stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"Chromium exited with code {self._proc.returncode}:\n{stderr}")
            if port_file.is_file():
                lines = port_file.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.05)
        raise RuntimeError("Chromium did not open its DevTools port within 30 s")

    @staticmethod
    def _page_websocket(port: int) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                targets = json.load(response)
            pages = [t for t in targets if t.get("type") == "page" and "webSocketDebuggerUrl" in t]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.05)
        raise RuntimeError("Chromium opened no page target within 30 s")

    def _receive(self, timeout: float) -> dict | None:
        import websocket

        self._ws.settimeout(max(timeout, 0.001))
        try:
            return json.loads(self._ws.recv())
        except websocket.WebSocketTimeoutException:
            return None

    def send(self, method: str, **params) -> dict:
        """Call a DevTools method and return its result; events are kept in self.events."""
        call_id = next(self._ids)
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + PAGE_TIMEOUT + 10
        while time.monotonic() < deadline:
            message = self._receive(deadline - time.monotonic())
            if message is None:
                break
            if message.get("id") == call_id:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)
        raise CDPError(f"{method}: no answer from Chromium within {PAGE_TIMEOUT + 10:.0f} s")

    def wait_for(self, condition, timeout: float) -> bool:
        """Collect events until condition() is true (True) or timeout seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            message = self._receive(min(remaining, 0.1))
            if message is not None and "method" in message:
                self.events.append(message)
        return True

    def evaluate(self, expression: str, timeout: float = PAGE_TIMEOUT):
        """Evaluate JavaScript in the page (awaiting promises) and return the value."""
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
            timeout=int(timeout * 1000),
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"JavaScript failed in the test's own script: {text}")
        return result["result"].get("value")

    def close(self) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(site):
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail(
            "headless Chromium is not installed: run `make browser-deps` "
            "(apt-get install -y chromium), or `make test`, which does it first"
        )
    chromium = Chromium(executable)
    try:
        for domain in ("Page", "Runtime", "Network", "Log"):
            chromium.send(f"{domain}.enable")
        chromium.send("Page.setLifecycleEventsEnabled", enabled=True)
        chromium.send("Network.setCacheDisabled", cacheDisabled=True)
        chromium.send(
            "Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False
        )
        yield chromium
    finally:
        chromium.close()


# --------------------------------------------------------------------------
# Visiting pages


@dataclass
class PageVisit:
    page: str  # path relative to _build/html
    js_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    math_elements: int = 0  # Sphinx math nodes on the page
    typeset_elements: int = 0  # <mjx-container> elements made by MathJax
    math_errors: list[str] = field(default_factory=list)
    mathjax_loaded: bool = False
    broken_images: list[str] = field(default_factory=list)
    images: int = 0
    links: list[str] = field(default_factory=list, repr=False)  # absolute same-site URLs
    title: str = ""


# Runs in the page after the load event: waits for MathJax and every image,
# then reports what the checks need.
_INSPECT_PAGE = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const images = [...document.images];
  for (const img of images) { img.loading = "eager"; }
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(done => { img.addEventListener("load", done); img.addEventListener("error", done); })));
  return {
    title: document.title,
    mathjaxLoaded: !!(window.MathJax && MathJax.startup && MathJax.startup.document),
    mathElements: document.querySelectorAll("span.math, div.math").length,
    typeset: document.querySelectorAll("mjx-container").length,
    mathErrors: [...document.querySelectorAll("mjx-merror")].map(e => e.getAttribute("data-mjx-error") || e.textContent),
    images: images.length,
    brokenImages: images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.currentSrc || img.src),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
  };
})()
"""


def _host(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss"):
        return parts.hostname
    return None  # data:, blob:, about:, chrome-extension: ...


class _Network:
    """Follows the main frame's navigations and the current document's requests in flight."""

    def __init__(self, browser: Chromium):
        self.browser = browser
        self.seen = 0
        self.loader = None  # loaderId of the main frame's current document
        self.idle_loaders: set[str] = set()
        self.in_flight: dict[str, str] = {}  # requestId -> loaderId
        self.last_activity = time.monotonic()

    def update(self) -> None:
        events = self.browser.events
        for event in events[self.seen :]:
            method, params = event["method"], event.get("params", {})
            self.last_activity = time.monotonic()
            if method == "Page.frameNavigated" and not params["frame"].get("parentId"):
                self.loader = params["frame"]["loaderId"]
            elif method == "Page.lifecycleEvent" and params.get("name") == "networkIdle":
                self.idle_loaders.add(params.get("loaderId"))
            elif method == "Network.requestWillBeSent":
                self.in_flight[params["requestId"]] = params.get("loaderId")
            elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                self.in_flight.pop(params["requestId"], None)
        self.seen = len(events)

    def quiet(self) -> bool:
        """No request of the current document in flight, nothing happened for 300 ms.

        (Requests of a page we navigated away from, such as a redirect stub's
        favicon, may never finish, so they do not count.)
        """
        self.update()
        busy = any(loader == self.loader for loader in self.in_flight.values())
        return not busy and time.monotonic() - self.last_activity > 0.3

    def page_idle(self) -> bool:
        """The current document (after any redirect) reached network idle and is quiet."""
        return self.quiet() and self.loader in self.idle_loaders


def visit(browser: Chromium, site: str, page: str) -> PageVisit:
    """Load a page, wait until it is loaded, typeset and quiet, and record what happened."""
    url = site + page
    result = PageVisit(page=page)
    browser.events.clear()
    network = _Network(browser)
    navigation = browser.send("Page.navigate", url=url)
    if navigation.get("errorText"):
        result.failed_requests.append(f"{url}: {navigation['errorText']}")
        return result
    if not browser.wait_for(network.page_idle, PAGE_TIMEOUT):
        result.failed_requests.append(f"{url}: the page did not finish loading within {PAGE_TIMEOUT:.0f} s")
        return result
    info = browser.evaluate(_INSPECT_PAGE)  # waits for MathJax and images
    browser.wait_for(network.quiet, PAGE_TIMEOUT)  # late requests: fonts, lazy scripts

    urls: dict[str, str] = {}
    for event in browser.events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            result.js_errors.append(f"uncaught exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            result.js_errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            result.js_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            request_url = params["request"]["url"]
            urls[params["requestId"]] = request_url
            host = _host(request_url)
            if host is not None and host not in LOCAL_HOSTS:
                result.external_requests.append(request_url)
        elif method == "Network.responseReceived":
            status = params["response"].get("status", 0)
            if status >= 400:
                result.failed_requests.append(f"{params['response']['url']}: HTTP {status}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            request_url = urls.get(params["requestId"], params["requestId"])
            result.failed_requests.append(f"{request_url}: {params.get('errorText')}")

    result.title = info["title"]
    result.mathjax_loaded = info["mathjaxLoaded"]
    result.math_elements = info["mathElements"]
    result.typeset_elements = info["typeset"]
    result.math_errors = info["mathErrors"]
    result.images = info["images"]
    result.broken_images = info["brokenImages"]
    result.links = [link for link in info["links"] if link.startswith(site)]
    return result


def book_pages() -> list[str]:
    """Every HTML page of the built book, relative to _build/html."""
    skip = {"_static", "_sources", "_downloads", "_images", "reports"}
    return sorted(
        path.relative_to(HTML).as_posix()
        for path in HTML.rglob("*.html")
        if not skip.intersection(path.relative_to(HTML).parts)
    )


@pytest.fixture(scope="module")
def visits(site, browser) -> dict[str, PageVisit]:
    pages = book_pages()
    return {page: visit(browser, site, page) for page in pages}


def _report(problems: dict[str, list[str]]) -> str:
    lines = []
    for page, items in problems.items():
        lines.append(f"{page}:")
        lines.extend(f"    {item}" for item in items)
    return "\n".join(lines)


# --------------------------------------------------------------------------
# The checks


def test_every_page_is_visited(visits):
    pages = list(visits)
    assert "book/intro.html" in pages, f"the intro page was not built; pages found: {pages}"
    assert "search.html" in pages, "the search page was not built"
    assert len([p for p in pages if p.startswith("book/")]) >= 2, f"too few book pages: {pages}"


def test_no_javascript_errors(visits):
    problems = {page: v.js_errors for page, v in visits.items() if v.js_errors}
    assert not problems, "JavaScript errors or uncaught exceptions:\n" + _report(problems)


def test_no_failed_requests(visits):
    problems = {page: v.failed_requests for page, v in visits.items() if v.failed_requests}
    assert not problems, "requests that failed:\n" + _report(problems)


def test_no_request_leaves_localhost(visits):
    problems = {page: v.external_requests for page, v in visits.items() if v.external_requests}
    assert not problems, (
        "the book must work offline, but these pages request other hosts "
        "(a CDN script, font or analytics?):\n" + _report(problems)
    )


def test_math_is_typeset(visits):
    with_math = {page: v for page, v in visits.items() if v.math_elements}
    assert with_math, "no page has any math, so typesetting cannot be checked (the intro should have an equation)"
    problems = {}
    for page, v in with_math.items():
        if not v.mathjax_loaded:
            problems[page] = [f"{v.math_elements} math elements but MathJax did not load"]
        elif v.typeset_elements < v.math_elements:
            problems[page] = [f"only {v.typeset_elements} of {v.math_elements} math elements were typeset"]
        elif v.math_errors:
            problems[page] = [f"MathJax error: {e}" for e in v.math_errors]
    assert not problems, "equations not typeset:\n" + _report(problems)


def test_images_load(visits):
    problems = {page: [f"image did not load: {src}" for src in v.broken_images] for page, v in visits.items() if v.broken_images}
    assert not problems, "broken images:\n" + _report(problems)


def test_links_to_book_files_resolve(visits, site):
    """Every same-site link (pages, downloads, notebook sources) answers 200."""
    targets: dict[str, list[str]] = {}
    for page, v in visits.items():
        for link in v.links:
            target = urllib.parse.urldefrag(link).url
            targets.setdefault(target, []).append(page)
    problems: dict[str, list[str]] = {}
    for target, pages in sorted(targets.items()):
        try:
            with urllib.request.urlopen(target, timeout=10) as response:
                ok = response.status == 200
                status = response.status
        except urllib.error.HTTPError as error:
            ok, status = False, error.code
        if not ok:
            for page in sorted(set(pages)):
                problems.setdefault(page, []).append(f"{target[len(site):]}: HTTP {status}")
    assert not problems, "links to files that do not exist:\n" + _report(problems)


def test_pages_offer_notebook_download(visits):
    """Executed chapters offer their .ipynb in the download menu."""
    chapters = [
        page
        for page in visits
        if (HTML / "_sources" / page).with_suffix(".ipynb").is_file()
    ]
    assert chapters, "no page offers a .ipynb download (book/_ext/book_extras.py should add them)"
    problems = {}
    for page in chapters:
        wanted = "_sources/" + Path(page).with_suffix(".ipynb").as_posix()
        if not any(urllib.parse.urlsplit(link).path.endswith(wanted) for link in visits[page].links):
            problems[page] = [f"no link to {wanted}"]
    assert not problems, "chapters without a notebook download:\n" + _report(problems)


def test_exercise_pages_link_released_notebooks(visits):
    """Once `make release` has produced a student notebook, its page offers it."""
    problems = {}
    for page, notebook in STUDENT_NOTEBOOKS.items():
        if page not in visits:
            problems[page] = ["page missing from the built book"]
        elif notebook.is_file() and not any(
            urllib.parse.urlsplit(link).path.endswith("/" + notebook.name) and "/_downloads/" in link
            for link in visits[page].links
        ):
            problems[page] = [f"{notebook.relative_to(ROOT)} exists but the page has no download link to it"]
    assert not problems, "exercise pages without their notebook:\n" + _report(problems)


def test_search_finds_a_term(site, browser):
    page = f"search.html?q={urllib.parse.quote(SEARCH_TERM)}"
    loaded = visit(browser, site, page)
    assert not loaded.js_errors and not loaded.failed_requests, (
        f"the search page has problems:\n" + _report({page: loaded.js_errors + loaded.failed_requests})
    )
    found = browser.evaluate(
        r"""
        new Promise(resolve => {
          const started = Date.now();
          const poll = () => {
            const hits = [...document.querySelectorAll("#search-results ul.search li")];
            const summary = document.querySelector("#search-results p.search-summary");
            const finished = summary && !/preparing search|searching/i.test(summary.textContent);
            if (hits.length || finished || Date.now() - started > 20000) {
              resolve({hits: hits.map(li => (li.querySelector("a") || li).textContent.trim()),
                       summary: summary ? summary.textContent.trim() : null});
            } else { setTimeout(poll, 100); }
          };
          poll();
        })
        """
    )
    assert found["hits"], f"searching for {SEARCH_TERM!r} found nothing (search summary: {found['summary']!r})"


def test_screenshots(site, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for page, name in SCREENSHOT_PAGES.items():
        assert (HTML / page).is_file(), f"cannot photograph {page}: it was not built"
        visit(browser, site, page)
        browser.evaluate(
            """(() => { const figure = document.querySelector("main img:not(.logo__image)");
                        if (figure && !location.pathname.endsWith("intro.html")) figure.scrollIntoView({block: "center"}); })()"""
        )
        data = browser.send("Page.captureScreenshot", format="png")["data"]
        png = base64.b64decode(data)
        assert png.startswith(b"\x89PNG"), f"the screenshot of {page} is not a PNG"
        (SCREENSHOTS / name).write_bytes(png)
        assert len(png) > 10_000, f"the screenshot of {page} is suspiciously small ({len(png)} bytes)"
