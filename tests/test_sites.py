"""SiteRouter: a stream of pages becomes per-site jobs; no page waits raw for a template."""

from __future__ import annotations

from indexer.model import Block, Page, RawPage
from indexer.sites import Job, SiteRouter, site_keys

MENU = "Home | Treatments | Contact"


def raw(n: int, site: str = "/s/a", url: str = "") -> RawPage:
    return RawPage(f"{site}-{n}", f"{site}/{n}.html", url or f"file://{site}/{n}.html", site, "html", "<p>x</p>", "utf-8", str(n))


def cleaned(job: Job) -> tuple[Page, ...]:
    """What a worker's clean step gives back: each page with the site's menu and its own text."""
    return tuple(Page(r.page_id, r.source, r.url, r.site, "t", blocks=(Block(MENU), Block(f"Text of {r.page_id}."))) for r in job.raws)


def settle(router: SiteRouter, jobs: list[Job]) -> list[Job]:
    """Run clean jobs through the router until only finish/full jobs are left."""
    done: list[Job] = []
    while jobs:
        job = jobs.pop(0)
        if job.kind == "clean":
            jobs += router.cleaned(job, cleaned(job))
        else:
            done.append(job)
    return done


def test_first_pages_are_cleaned_then_finished_with_the_learned_template() -> None:
    router = SiteRouter({}, template_pages=4, batch_pages=3)
    jobs = [j for n in range(4) for j in router.feed(raw(n))]
    # a batch of three, then the fourth at once: the template is learned from four pages
    assert [(j.kind, len(j.raws)) for j in jobs] == [("clean", 3), ("clean", 1)]
    finished = settle(router, jobs)
    assert [j.kind for j in finished] == ["finish", "finish"]
    assert all(j.template == frozenset({"home | treatments | contact"}) for j in finished)
    assert sorted(p.page_id for j in finished for p in j.pages) == [f"/s/a-{n}" for n in range(4)]
    assert router.templates == [(("/s/a",), frozenset({"home | treatments | contact"}))]
    # later pages go out whole, with the template
    later = [j for n in range(4, 7) for j in router.feed(raw(n))]
    assert [(j.kind, len(j.raws), j.template) for j in later] == [("full", 3, finished[0].template)]
    assert router.finish() == [] and router.waiting() == 0


def test_a_small_site_learns_at_the_end_with_what_the_index_knew() -> None:
    router = SiteRouter({"/s/b": frozenset({"known footer"})}, template_pages=24, batch_pages=16)
    for n in range(3):
        assert router.feed(raw(n, "/s/a")) == [] and router.feed(raw(n, "/s/b")) == []
    assert router.waiting() == 6
    jobs = router.finish()
    assert sorted((j.kind, j.site) for j in jobs) == [("clean", ("/s/a",)), ("clean", ("/s/b",))]
    finished = settle(router, jobs)
    assert {j.site: j.template for j in finished} == {
        ("/s/a",): frozenset({"home | treatments | contact"}),
        ("/s/b",): frozenset({"home | treatments | contact", "known footer"}),
    }
    assert router.finish() == [] and router.waiting() == 0


def test_many_small_sites_do_not_pile_up() -> None:
    router = SiteRouter({}, template_pages=24, batch_pages=16, max_waiting=20)
    sent: list[Job] = []
    for n in range(300):
        sent += router.feed(raw(n, f"/s/site{n // 3}"))
        assert router.waiting() <= 21
    finished = settle(router, sent + router.finish())
    finished += settle(router, router.finish())
    assert sorted(p.page_id for j in finished for p in j.pages) == sorted(f"/s/site{n // 3}-{n}" for n in range(300))
    assert router.waiting() == 0


def test_pages_of_one_host_are_one_site_across_folders() -> None:
    a = raw(1, "/s/a", "https://Health.example/a/1")
    b = raw(2, "/s/b", "https://health.example/b/2")
    assert site_keys(a) == ("/s/a", "health.example")
    router = SiteRouter({}, template_pages=2, batch_pages=2)
    assert router.feed(a) == []
    [job] = router.feed(b)
    assert job.kind == "clean" and set(job.site) == {"/s/a", "/s/b", "health.example"}
