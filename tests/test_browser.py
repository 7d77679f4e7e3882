"""The web UI in a real browser: Debian's Chromium driven by Playwright, served by waitress.

Chromium is never downloaded: `.ci/run` (scripts/test) installs Debian's `chromium` package,
and these tests FAIL, not skip, when it is missing. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from indexer.config import load_settings
from indexer.model import Claim

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _supplement() -> list[Any]:
    """A few tagged pages beside the corpus, so facets and claims have something to show
    whatever the state of the knowledge layer."""
    from tests.conftest import make_page

    def claim(text: str, kind: str, polarity: str, evidence: str, treatment: str) -> Claim:
        return Claim(text=text, start=0, end=len(text), type=kind, polarity=polarity, evidence=evidence, treatments=(treatment,))

    yes = "Massage therapy eased chronic lower back pain more than usual care in a 2011 trial of 400 adults."
    no = "Massage therapy does not give lasting relief: a 2015 review found the benefit faded within six months."
    warn = "People with osteoporosis should avoid deep tissue massage therapy, since firm pressure can injure fragile bones."
    return [
        make_page("guides/massage-evidence", "What the Evidence Says About Massage", yes, "Weekly sessions helped most; the benefit was clear after ten weeks.",
                  url="https://evidence.example/massage", treatments=("massage-therapy",), conditions=("lower-back-pain",),
                  claims=[claim(yes, "efficacy", "positive", "study", "massage-therapy")], headings=("Trial results",)),
        make_page("guides/massage-doubts", "Massage: Short-Term Help at Best", no, "Keep moving between sessions to hold on to the gains.",
                  url="https://evidence.example/massage-doubts", treatments=("massage-therapy",), conditions=("chronic-back-pain",),
                  claims=[claim(no, "efficacy", "negative", "study", "massage-therapy")], headings=("Reviews",)),
        make_page("guides/massage-safety", "Is Massage Safe for Everyone?", warn, "Tell the therapist about blood thinners before a session.",
                  url="https://evidence.example/massage-safety", treatments=("massage-therapy",), conditions=("lower-back-pain",),
                  claims=[claim(warn, "caution", "positive", "expert", "massage-therapy")], headings=("Who should avoid massage",)),
    ]


@pytest.fixture(scope="module")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from indexer import store
    from indexer.pipeline import ingest

    path = tmp_path_factory.mktemp("browser") / "index"
    ingest([str(ROOT / "corpus")], load_settings(env={}, index=path))
    with store.open_writer(path) as writer:
        for page in _supplement():
            writer.put_page(page)
    return path


@pytest.fixture(scope="module")
def base_url(index_path: Path) -> Iterator[str]:
    """The app under waitress (a real WSGI server) on a free local port, in a thread."""
    import waitress

    from search_web import create_app

    app = create_app(load_settings(env={}, index=index_path))
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4, ident="relief-test")
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Chromium is not installed: the browser tests need Debian's `chromium` package "
            "(apt-get install chromium; scripts/test and .ci/run install it). Playwright never downloads a browser here."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type in ("error", "warning") else None)
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    # CSP violations and script errors show up on the console
    assert not problems, problems


def shot(page: Any, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {tag: e.tagName.toLowerCase(), id: e.id, cls: e.className, text: (e.textContent || '').trim(),
                href: e.getAttribute('href') || '', outline: s.outlineStyle, outlineWidth: s.outlineWidth}; }"""
    )


def tab_to(page: Any, matches: Any, limit: int = 120) -> dict[str, Any]:
    """Press Tab until the focused element matches; every stop must show a visible focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["tag"] in ("a", "button", "input", "select", "summary"):
            assert now["outline"] != "none" and now["outlineWidth"] != "0px", f"no visible focus on {now}"
        if matches(now):
            return now
    raise AssertionError("never reached the element with the keyboard")


def search_for(page: Any, query: str) -> None:
    page.goto("/")
    box = page.get_by_label("Search the health pages")
    box.fill(query)
    box.press("Enter")
    page.wait_for_load_state()


# ------------------------------------------------------------------ tests


def test_type_a_query_and_see_highlighted_results(page: Any) -> None:
    page.goto("/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'q'", timeout=3000)
    assert focused(page)["id"] == "q", "the search box has focus on load"
    page.keyboard.type("massage therapy")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=massage\+therapy"))
    results = page.locator("li.result")
    assert results.count() >= 3
    assert page.locator("li.result mark").first.is_visible()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Results for")
    assert page.locator("#q").input_value() == "massage therapy"
    assert re.search(r"\d+ passages?", page.locator("#result-count").inner_text())
    shot(page, "results-desktop.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.url)
    assert page.locator(".refine").get_attribute("open") is None  # the script folds the filters on a phone
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the results page scrolls sideways on a phone ({width}px)"
    shot(page, "results-phone.png", full_page=False)
    shot(page, "results-phone-full.png")


def test_search_as_you_type_offers_quick_matches(page: Any) -> None:
    page.goto("/")
    page.locator("#q").press_sequentially("sciatica", delay=30)
    live = page.locator("#live")
    live.locator("a").first.wait_for()
    assert live.is_visible() and live.locator("a").count() >= 2
    page.keyboard.press("ArrowDown")
    assert focused(page)["href"].startswith("/page/")
    page.keyboard.press("Escape")
    assert live.is_hidden() and focused(page)["id"] == "q"


def test_click_a_facet_then_remove_its_chip(page: Any) -> None:
    search_for(page, "massage")
    facet = page.locator("a.facet-value", has_text="Massage").first
    facet.click()
    page.wait_for_url(re.compile(r"treatment=massage-therapy"))
    chip = page.locator("a.chip")
    assert chip.count() == 1 and "Massage" in chip.inner_text()
    assert page.locator("a.facet-value.is-active").count() == 1
    chip.click()
    page.wait_for_url(re.compile(r"/search\?q=massage$"))
    assert page.locator("a.chip").count() == 0


def test_follow_pagination(page: Any) -> None:
    search_for(page, "back pain")
    nav = page.get_by_role("navigation", name="Result pages")
    first = page.locator("li.result h2").first.inner_text()
    nav.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert nav.locator('[aria-current="page"]').inner_text().strip().endswith("2")
    assert page.locator("li.result h2").first.inner_text() != first or page.locator("ol.result-list").get_attribute("start") == "11"
    nav.get_by_role("link", name="← Previous").click()
    page.wait_for_url(re.compile(r"/search\?q=back\+pain$"))


def test_open_a_page_view(page: Any) -> None:
    search_for(page, "massage evidence trial")
    link = page.locator("li.result h2 a").first
    title = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/page/"))
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.locator("section.passage").count() >= 1
    source = page.locator(".page-source a")
    if source.count():
        assert source.get_attribute("rel") == "noopener noreferrer nofollow"
    shot(page, "page-view.png")


def test_page_view_marks_claims(page: Any) -> None:
    page.goto("/page/guides/massage-evidence")
    mark = page.locator("mark.claim.claim-efficacy")
    assert mark.count() == 1 and "2011 trial" in mark.inner_text()
    assert page.get_by_role("link", name=re.compile("evidence.example")).get_attribute("href") == "https://evidence.example/massage"


def test_use_the_claims_browser(page: Any) -> None:
    page.goto("/claims")
    page.get_by_label("Treatment", exact=True).select_option("massage-therapy")
    page.get_by_role("button", name="Show claims").click()
    page.wait_for_url(re.compile(r"treatment=massage-therapy"))
    assert page.locator("#type-efficacy").is_visible() and page.locator("#type-caution").is_visible()
    assert page.locator("#type-efficacy .polarity-negative").count() == 1
    assert "2011 trial" in page.locator("#type-efficacy").inner_text()
    assert page.locator("#contradictions .pair").count() >= 1
    shot(page, "claims.png")
    shot(page, "claims-top.png", full_page=False)


def test_no_results_and_did_you_mean(page: Any) -> None:
    search_for(page, "xylophonequartz")
    assert page.locator("#no-results").is_visible()
    shot(page, "no-results.png", full_page=False)
    assert "No pages match" in page.locator("#no-results").inner_text()
    search_for(page, "masage")
    suggestion = page.locator("a.suggestion")
    assert suggestion.is_visible()
    shot(page, "did-you-mean.png", full_page=False)
    word = suggestion.inner_text()
    suggestion.click()
    page.wait_for_url(re.compile(r"q=" + re.escape(word)))
    assert page.locator("li.result").count() >= 1


def test_everything_is_keyboard_reachable(page: Any) -> None:
    page.goto("/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'q'")
    page.keyboard.type("massage")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=massage"))
    # the skip link comes first and moves focus to the main content
    skip = tab_to(page, lambda f: "skip-link" in f["cls"])
    assert skip["href"] == "#main"
    # a facet, by keyboard
    tab_to(page, lambda f: "facet-value" in f["cls"] and "Massage" in f["text"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"treatment=massage-therapy"))
    tab_to(page, lambda f: f["cls"] == "chip")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=massage$"))
    # the group toggle and a result title
    tab_to(page, lambda f: f["text"] == "Best passage per page")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"group=page"))
    tab_to(page, lambda f: f["href"].startswith("/page/") and not f["cls"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/page/"))
    # the main navigation leads to the claims browser
    tab_to(page, lambda f: f["text"] == "Claims")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/claims$"))
    select = tab_to(page, lambda f: f["id"] == "treatment")
    assert select["tag"] == "select"


def test_phone_width_pages_do_not_scroll_sideways(browser: Any, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = context.new_page()
    for url, name in (("/", "home-phone.png"), ("/page/guides/massage-evidence", "page-phone.png"), ("/claims", None)):
        tab.goto(url)
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390, url
        if name:
            shot(tab, name)
    context.close()


def test_home_screenshot(page: Any) -> None:
    page.goto("/")
    shot(page, "home-desktop.png")
    assert page.get_by_role("link", name="exercise for back pain").is_visible()  # from the index's own topics
