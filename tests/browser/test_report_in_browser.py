"""The one-file report in a real headless Chromium: it renders offline, prints, fetches nothing.

The page is served by Playwright's router itself (every request of the page goes through
it): the report's own URL gets the file, anything else would be recorded and refused.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nexio_lab.report import write_report
from nexio_lab.results import ResultSet
from nexio_lab.results._synthetic import synthetic_records

URL = "http://report.invalid/q4.html"


def every_profile_on_every_pool(n_profiles: int) -> ResultSet:
    """Synthetic records where each profile ran on all three pools, as in a real batch."""
    records = synthetic_records(3 * n_profiles, 8, seed=5, n_carriers=40, failed_every=15)
    return ResultSet.from_records(
        [
            dataclasses.replace(
                r, row=i // 3, profile={**r.profile, "entity": f"entity-{i // 3:04d}"}
            )
            for i, r in enumerate(records)
        ]
    )


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_report_renders_with_no_request_and_no_console_error(
    browser, tmp_path: Path, artifacts_dir: Path
) -> None:
    results = every_profile_on_every_pool(30)
    report = write_report(results, tmp_path / "q4.html", title="Q4 carriers")
    body = report.read_bytes()

    requests: list[str] = []
    problems: list[str] = []

    def route(r) -> None:
        requests.append(r.request.url)
        if r.request.url == URL:
            r.fulfill(status=200, body=body, content_type="text/html; charset=utf-8")
        else:
            r.abort()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.route("**/*", route)
        page.goto(URL, wait_until="load")

        assert page.title() == "Q4 carriers"
        headings = page.locator("h2").all_inner_texts()
        assert headings[:4] == [
            "Summary",
            "Plots",
            "Pool comparison",
            "Top candidates per profile_state",
        ]
        assert headings[4] == f"Errors ({len(results.errors)})"
        # every plot decoded and drawn (a broken data: URI has no natural size)
        sizes = page.eval_on_selector_all(
            "figure img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])"
        )
        assert len(sizes) == 6 and all(done and width > 100 for done, width in sizes)
        assert page.locator("#agreement tbody tr").count() == 3  # three pools, three pairs
        page.screenshot(path=artifacts_dir / "report.png", full_page=True)

        page.emulate_media(media="print")
        assert page.locator("nav").is_hidden()
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    finally:
        page.close()
    assert requests == [URL], requests
    assert problems == []
