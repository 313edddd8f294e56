"""The progress widget, in a notebook, in JupyterLab, in a real headless Chromium.

Runs every cell of ``NOTEBOOK`` (the batch notebook: 240 profiles against a sandbox embedded
in the kernel, ``progress="widget"``) through JupyterLab's own "run all cells" command and
checks that every progress display rendered as a widget (not as its text fallback), reached
``N/N (100%)`` with a full bar and turned green. A screenshot lands in
``tests/artifacts/<notebook>.png`` (and ``<notebook>-widget.png``, the widget alone).

The staged copy is stripped of its stored outputs and widget state first, so whatever the
page shows comes from this run, not from the last time the notebook was saved.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import nbformat
import pytest
from _lab_server import REPO, stage, start

#: The notebook under test.
NOTEBOOK = REPO / "notebooks" / "02_batch.ipynb"
#: Repo directories copied beside it, so its relative paths (e.g. ../data) keep working.
SUPPORT = [REPO / "data"]
#: Rows of the batch in the notebook (the shipped profiles), as the widget's label ends.
EXPECT_TOTAL = 240
#: Whether the batch in the notebook is expected to end well (green bar).
EXPECT_OK = True

STARTUP_MS = 60_000
RUN_MS = 150_000

#: True once the notebook's panel is open and its kernel idle; keeps the panel at hand
#: (the shell's "current widget" follows focus, which a headless page may not keep).
READY_JS = """
(path) => {
  const app = window.jupyterapp;
  if (!app) return false;
  const panel = Array.from(app.shell.widgets('main')).find(w => w.context?.path === path);
  if (!panel?.context?.isReady || !panel.sessionContext?.isReady) return false;
  window.nexioPanel = panel;
  return panel.sessionContext.session?.kernel?.status === 'idle';
}
"""

#: Null while cells still run; then {errors: [...]} (stops at the first failing cell).
STATUS_JS = """
() => {
  const panel = window.nexioPanel;
  const cells = panel.content.model.cells;
  const errors = [];
  let pending = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code' || !cell.sharedModel.getSource().trim()) continue;
    for (let j = 0; j < cell.outputs.length; j++) {
      const out = cell.outputs.get(j).toJSON();
      if (out.output_type === 'error') errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
    }
    if (!cell.executionCount) pending++;
  }
  if (errors.length) return {errors};
  const idle = panel.sessionContext.session?.kernel?.status === 'idle';
  return pending === 0 && idle ? {errors: []} : null;
}
"""


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_progress_widget_renders_and_completes(
    browser, tmp_path: Path, artifacts_dir: Path
) -> None:
    from playwright.sync_api import expect

    root = stage(tmp_path, [NOTEBOOK.parent, *SUPPORT])
    path = NOTEBOOK.relative_to(REPO).as_posix()
    clear_outputs(root / path)
    lab = start(root, tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(lab.notebook_url(path))
        page.wait_for_function(READY_JS, arg=path, timeout=STARTUP_MS, polling=250)
        # The command acts on the notebook with focus: give it, then run without awaiting
        # (the returned promise may only settle when every cell ran).
        page.evaluate("""() => {
          const app = window.jupyterapp;
          app.shell.collapseLeft();  // more room for the notebook in the screenshot
          app.shell.activateById(window.nexioPanel.id);
          app.commands.execute('notebook:run-all-cells');
        }""")
        status = page.wait_for_function(STATUS_JS, timeout=RUN_MS, polling=250).json_value()
        assert status["errors"] == [], f"notebook cells failed: {status['errors']}"

        # Every progress display in the notebook: rendered by the widget manager (these
        # elements only exist then), full and, when expected, green.
        displays = page.locator(".nexio-progress")
        expect(displays.first).to_be_visible(timeout=30_000)
        for i in range(displays.count()):
            display = displays.nth(i)
            label = display.locator(".nexio-progress-done")
            expect(label).to_have_text(re.compile(r"^(\d+)/\1 \(100%\)$"), timeout=30_000)
            if i == 0:  # the notebook's main batch; later displays (attach...) may be smaller
                assert label.inner_text() == f"{EXPECT_TOTAL}/{EXPECT_TOTAL} (100%)"
            bar = display.locator(".jupyter-widgets.widget-hprogress .progress-bar")
            assert bar.evaluate("el => el.style.width") == "100%"
            bar_classes = bar.get_attribute("class") or ""
            assert ("progress-bar-success" in bar_classes) is EXPECT_OK, bar_classes
        # A front-end without the widget manager shows these instead of the widget.
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        fallbacks = ("Loading widget", "VBox(children", "IntProgress(")
        assert not [t for t in outputs if any(f in t for f in fallbacks)]

        display = displays.first
        display.scroll_into_view_if_needed()
        page.screenshot(path=artifacts_dir / f"{NOTEBOOK.stem}.png")
        display.screenshot(path=artifacts_dir / f"{NOTEBOOK.stem}-widget.png")
    except BaseException:
        # What the browser showed and what the server said, for whoever reads the failure.
        with contextlib.suppress(Exception):
            page.screenshot(path=artifacts_dir / f"{NOTEBOOK.stem}-failure.png")
        print(f"JupyterLab log (tail):\n{lab.log()[-6000:]}")
        raise
    finally:
        page.close()
        lab.stop()
    assert lab.process.poll() is not None


def clear_outputs(notebook: Path) -> None:
    """No stored outputs, execution counts or widget state: only a live run can pass."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, notebook)
