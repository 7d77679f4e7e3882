"""SiteRouter: a stream of pages becomes per-site jobs; a site's template is learned first."""

from __future__ import annotations

from indexer.model import RawPage
from indexer.sites import SiteRouter, site_keys


def raw(n: int, site: str = "/s/a", url: str = "") -> RawPage:
    return RawPage(f"{site}-{n}", f"{site}/{n}.html", url or f"file://{site}/{n}.html", site, "html", "<p>x</p>", "utf-8", str(n))


def ids(jobs) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[r.page_id for r in job.raws] for job in jobs]


def test_first_pages_learn_and_later_pages_wait_for_the_template() -> None:
    router = SiteRouter({}, template_pages=3, batch_pages=2)
    assert ids(router.feed(raw(0))) == [] and ids(router.feed(raw(1))) == []
    [learn] = list(router.feed(raw(2)))
    assert learn.learn and [r.page_id for r in learn.raws] == ["/s/a-0", "/s/a-1", "/s/a-2"]
    # while the template is being learned, the site's pages are held back
    assert ids(router.feed(raw(3))) == [] and ids(router.feed(raw(4))) == [] and ids(router.feed(raw(5))) == []
    assert router.pending()
    released = list(router.learned(learn.site, frozenset({"menu"})))
    assert ids(released) == [["/s/a-3", "/s/a-4"]]
    assert all(not j.learn and j.template == frozenset({"menu"}) for j in released)
    assert not router.pending()
    [tail] = list(router.finish())
    assert [r.page_id for r in tail.raws] == ["/s/a-5"] and tail.template == frozenset({"menu"})
    assert list(router.finish()) == []


def test_sites_are_kept_apart_and_a_small_site_learns_at_the_end() -> None:
    router = SiteRouter({"/s/b": frozenset({"known footer"})}, template_pages=5, batch_pages=4)
    for n in range(3):
        assert list(router.feed(raw(n, "/s/a"))) == []
        assert list(router.feed(raw(n, "/s/b"))) == []
    jobs = list(router.finish())
    assert sorted(ids(jobs)) == [["/s/a-0", "/s/a-1", "/s/a-2"], ["/s/b-0", "/s/b-1", "/s/b-2"]]
    assert all(j.learn for j in jobs)
    # what the index already knew of a site comes along with its first job
    assert {j.site: j.template for j in jobs}[("/s/b",)] == frozenset({"known footer"})


def test_pages_of_one_host_are_one_site_across_folders() -> None:
    a = raw(1, "/s/a", "https://Health.example/a/1")
    b = raw(2, "/s/b", "https://health.example/b/2")
    assert site_keys(a) == ("/s/a", "health.example")
    router = SiteRouter({}, template_pages=2, batch_pages=2)
    assert list(router.feed(a)) == []
    [job] = list(router.feed(b))
    assert job.learn and set(job.site) == {"/s/a", "/s/b", "health.example"}


def test_held_counts_the_pages_waiting_for_a_template() -> None:
    router = SiteRouter({}, template_pages=1, batch_pages=10)
    [learn] = list(router.feed(raw(0)))
    for n in range(1, 4):
        list(router.feed(raw(n)))
    assert router.held() == 3
    list(router.learned(learn.site, frozenset()))
    assert router.held() == 0
