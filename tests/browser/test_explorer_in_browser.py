"""The explorer in JupyterLab, in a real headless Chromium: a control redraws the plot.

A notebook written for this test builds synthetic results and displays ``explore(...)``;
JupyterLab runs it; the test then picks another plot in the rendered dropdown and waits
for the image in the explorer's Output to change, checks that only one image is there (no
stacked figures), and keeps a screenshot in ``tests/artifacts/explorer.png``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import nbformat
import pytest
from _lab_server import start
from test_notebook_in_browser import READY_JS, STATUS_JS

STARTUP_MS = 60_000
RUN_MS = 120_000

SOURCE = """\
import nexio_lab
from nexio_lab.results import ResultSet
from nexio_lab.results._synthetic import synthetic_records

app = nexio_lab.explore(ResultSet.from_records(synthetic_records(300, 8, seed=1, failed_every=20)))
app"""

#: The data URL of the image in the explorer's plot Output, and how many images it holds.
PLOT_IMAGE_JS = """
() => {
  const imgs = document.querySelectorAll('.nexio-explorer .widget-output img');
  return imgs.length ? {count: imgs.length, src: imgs[0].getAttribute('src')} : null;
}
"""


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_changing_a_control_redraws_the_plot(browser, tmp_path: Path, artifacts_dir: Path) -> None:
    from playwright.sync_api import expect

    root = tmp_path / "root"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SOURCE)]
    # the kernel to start, or JupyterLab asks which one
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python",
    }  # fmt: skip
    nbformat.write(nb, root / "explorer.ipynb")
    lab = start(root, tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(lab.notebook_url("explorer.ipynb"))
        page.wait_for_function(READY_JS, arg="explorer.ipynb", timeout=STARTUP_MS, polling=250)
        page.evaluate("""() => {
          const app = window.jupyterapp;
          app.shell.collapseLeft();
          app.shell.activateById(window.nexioPanel.id);
          app.commands.execute('notebook:run-all-cells');
        }""")
        status = page.wait_for_function(STATUS_JS, timeout=RUN_MS, polling=250).json_value()
        assert status["errors"] == [], status["errors"]

        explorer = page.locator(".nexio-explorer")
        expect(explorer).to_be_visible(timeout=30_000)
        first = page.wait_for_function(PLOT_IMAGE_JS, timeout=30_000, polling=100).json_value()
        assert first["count"] == 1 and first["src"].startswith("data:image/png;base64,")

        plot = explorer.locator(".widget-dropdown").filter(has_text="plot").locator("select")
        plot.select_option("funnel")
        changed = page.wait_for_function(
            """(before) => {
              const imgs = document.querySelectorAll('.nexio-explorer .widget-output img');
              return imgs.length && imgs[0].getAttribute('src') !== before
                ? {count: imgs.length, src: imgs[0].getAttribute('src')} : null;
            }""",
            arg=first["src"],
            timeout=60_000,
            polling=100,
        ).json_value()
        assert changed["count"] == 1  # replaced, not stacked
        assert changed["src"].startswith("data:image/png;base64,")
        expect(explorer.locator(".widget-html").first).to_contain_text("plot drawn in")

        # a filter narrows what is drawn and counted
        pools = (
            explorer.locator(".widget-select-multiple").filter(has_text="pool").locator("select")
        )
        pools.select_option("carriers:all")
        expect(explorer.locator(".widget-html").first).to_contain_text(
            "100 of 300 evaluations", timeout=60_000
        )
        explorer.scroll_into_view_if_needed()
        page.screenshot(path=artifacts_dir / "explorer.png")
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=artifacts_dir / "explorer-failure.png")
        print(f"JupyterLab log (tail):\n{lab.log()[-6000:]}")
        raise
    finally:
        page.close()
        lab.stop()
