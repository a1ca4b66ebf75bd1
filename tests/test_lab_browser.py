"""Every curated notebook opened in a real JupyterLab (token, 127.0.0.1) in headless Debian chromium, as an analyst
opens it: Run > Run All Cells, the kernel goes idle, no error output, its widgets render, and one widget
interaction changes what is drawn. Every request off 127.0.0.1 fails the test. One server, one browser and the
notebooks in sequence; each notebook is a copy of the shipped .ipynb with its parameters (papermill's injected
cell) pointing at its own copy of a store built from the session's small sample world (never ground truth; the
kernels run the ground-truth guard in strict mode). Screenshots are kept under out/screenshots/."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests import gt_guard, lab_helpers
from tests.hotspot_fixtures import ingested_world
from tests.ingest_helpers import BAD, FIX
from tests.notebook_runner import NOTEBOOKS, REPO
from tests.test_crossborder_explorer import linked_world

pytestmark = pytest.mark.browser
SCREENSHOTS = REPO / "out" / "screenshots"
RUN_S = 300             # bounds on waiting for a notebook / an interaction (2 busy cores); not speed assertions
INTERACT_S = 120
SHOWCASE = "04_cross_border"      # its screenshot after the interaction is the analyst's (out/screenshots/analyst.png)


def _select_other(page, label: str) -> str:
    """Pick, in the widget dropdown described `label`, an option other than the one shown; its text."""
    select = page.locator(f".jp-OutputArea-output .widget-dropdown:has(label:text-is('{label}')) select").first
    select.scroll_into_view_if_needed()
    current = select.evaluate("s => s.selectedIndex")
    options = select.locator("option").all_inner_texts()
    assert len(options) > 1, f"dropdown {label!r} offers nothing else: {options}"
    index = 1 if current == 0 else 0
    select.select_option(index=index)
    return options[index]


def _tab(page, title: str) -> None:
    page.locator(".jp-OutputArea-output .widget-tab .lm-TabBar-tab", has_text=title).first.click()


def _click(page, button: str) -> str:
    page.locator(".jp-OutputArea-output button.jupyter-button", has_text=button).first.click()
    return f"pressed {button}"


def _ingest_browser(page) -> str:
    _tab(page, "Quarantine")
    return _click(page, "Show entry")                  # the first quarantined row: its file, row and reasons


def _one_referral(page) -> str:
    _tab(page, "One referral")
    return _click(page, "Check this referral")           # an empty form: every requirement is reported missing


@dataclass(frozen=True)
class Case:
    name: str                          # notebook stem in notebooks/
    world: str                         # "extracts" (fixture extracts, ingested by the notebook), "ingested", "linked",
                                       # "training" (a training case built from the linked world)
    parameters: dict                   # lean parameters (paths are added)
    widget: str | None                 # a CSS class of the widget's panel that must render (None: shows no widget)
    interact: Callable | None          # one interaction; returns what it did
    drawn: str = ""                    # selector of what the interaction must redraw (inside the widget's output)
    plotly: bool = False               # the notebook draws plotly figures: they must render
    drawn_before: bool = True          # something is drawn under `drawn` before the interaction
    text: tuple = ()                   # text the notebook's outputs must show after Run All
    known_errors: tuple = ()           # page-error signatures of third-party widgets (lab_helpers), with `rendered`
    rendered: str = ""                 # selector that must be present when known errors are tolerated


CASES = (
    Case("00_start_here", "linked", {}, None, None, text=("Ready: every check passed.", "store has groups")),
    Case("01_ingest_and_triage", "extracts", {}, ".widget-tab", _ingest_browser,
         drawn=".widget-html-content", plotly=True),
    Case("02_hotspots_for_patrol", "ingested", {"knox_iterations": 99, "gi_permutations": 199}, ".widget-dropdown",
         lambda page: _select_other(page, "method"), drawn=".widget-html-content"),
    Case("03_people_vehicles_groups", "linked", {"review_limit": 5}, ".widget-toggle-buttons",
         lambda page: _select_other(page, "group"), drawn=".widget-html-content",
         known_errors=(lab_helpers.IPYSIGMA_CHILD_VIEW,), rendered=".ipysigma-widget canvas"),
    Case("04_cross_border", "linked", {"top": 5}, ".widget-dropdown",
         lambda page: _select_other(page, "group"), drawn=".widget-html-content, .js-plotly-plot", plotly=True),
    Case("05_intelligence_package", "linked", {}, ".widget-textarea", lambda page: _click(page, "Preview"),
         drawn=".widget-html-content", text=("verify: ok",)),
    Case("06_training_demo", "training", {}, ".widget-select", lambda page: _click(page, "Next"),
         drawn=".widget-html-content"),
    Case("07_referral_readiness", "linked", {"example_file": str(BAD / "offender_rows_partly_bad.csv")},
         ".widget-tab", _one_referral, drawn=".widget-html-content"),
)


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def chromium():
    path = shutil.which("chromium")
    if not path:
        if _ci():
            pytest.fail("Debian chromium is not installed (make browser): the JupyterLab browser tests cannot run")
        pytest.skip("Debian chromium is not installed (make test installs it)")
    return path


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The worlds the notebooks run on: fixture extracts, the session's ingested world and its linked copy."""
    base = tmp_path_factory.getbasetemp()
    extracts = tmp_path_factory.mktemp("lab_extracts")
    for f in ("store_directory.csv", "brightmart_clean.csv", "wmp_same_incident.csv"):
        shutil.copy(FIX / f, extracts / f)
    shutil.copy(BAD / "offender_rows_partly_bad.csv", extracts / "pillbox_offender_report.csv")
    linked = linked_world(base)
    training = tmp_path_factory.mktemp("lab_training") / "case"
    # through the CLI, in its own process: building a case puts that process in training mode
    built = subprocess.run([sys.executable, "-m", "workbench.cli", "training", "build", "--case", "cross-border",
                            "--out", str(training), "--source", str(linked), "--json"],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    return {"extracts": extracts, "ingested": Path(ingested_world(base / "ingested_world")["db"]),
            "linked": linked, "training": training}


@pytest.fixture(scope="module")
def lab(stores, tmp_path_factory):
    """One JupyterLab for the module; its root holds the prepared notebooks, each store copy lives beside it."""
    import papermill

    work = tmp_path_factory.mktemp("lab")
    root, data, home = work / "root", work / "data", work / "home"
    for d in (root, data, home):
        d.mkdir()
    for case in CASES:
        params = dict(case.parameters)
        db = data / f"{case.name}.duckdb"
        if case.world == "training":
            shutil.copytree(stores["training"], data / case.name)
            params.update(training_dir=str(data / case.name), session_dir=str(data / f"{case.name}_session"))
        elif case.world == "extracts":
            params["sample_dir"] = str(stores["extracts"])
        else:
            shutil.copy(stores[case.world], db)
        if case.world != "training":
            params["db_path"] = str(db)
        if case.name == "07_referral_readiness":
            params["work_dir"] = str(data / f"{case.name}_out")
        elif case.name not in ("00_start_here", "01_ingest_and_triage", "06_training_demo"):
            params["out_dir"] = str(data / f"{case.name}_out")
        papermill.execute_notebook(str(NOTEBOOKS / f"{case.name}.ipynb"), str(root / f"{case.name}.ipynb"),
                                   prepare_only=True, parameters=params, kernel_name="python3")
    guard_log = work / "ground_truth_guard.jsonl"
    env = gt_guard.subprocess_env(guard_log, strict_mode=True)
    with lab_helpers.jupyterlab(root, home, env=env) as server:
        server.guard_log = guard_log
        yield server


@pytest.fixture(scope="module")
def browser(chromium, lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        yield launched
        launched.close()


def test_every_curated_notebook_is_tested():
    shipped = {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert shipped == {c.name for c in CASES}, f"add to (or remove from) CASES in {Path(__file__).name}"


def test_lab_refuses_the_api_without_its_token(lab):
    assert lab.api("/api/contents", token=None)[0] == 403
    assert lab.api("/api/contents", token="wrong-" + lab.token)[0] == 403
    assert lab.api("/api/contents")[0] == 200


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_notebook_runs_all_in_jupyterlab(case, lab, browser):
    assert (NOTEBOOKS / f"{case.name}.ipynb").exists(), f"curated notebook {case.name}.ipynb is missing"
    name = f"{case.name}.ipynb"
    seen = {"outside": [], "page_errors": []}
    page = lab_helpers.offline_page(browser, seen)
    started = time.monotonic()
    try:
        lab_helpers.open_notebook(page, lab, name)
        lab_helpers.run_all(page, RUN_S * 1000)
        ran = time.monotonic() - started
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        errors = lab_helpers.error_outputs(page)
        assert not errors, "\n---\n".join(errors)[-4000:]
        saved = _save_and_read(page, lab, name)
        assert not [o for o in saved if o.get("output_type") == "error"]
        mimes = set(lab_helpers.output_mime_types(page))
        shown = page.inner_text(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        for text in case.text:
            assert text in shown, f"{text!r} is not in the notebook's output"
        if case.plotly:
            assert page.locator(".jp-OutputArea-output .js-plotly-plot .main-svg").count() > 0, mimes
        if case.widget is None:
            page.screenshot(path=str(SCREENSHOTS / f"analyst_{case.name[:2]}.png"))
            assert not [o for o in saved if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        else:
            widget = page.locator(f".jp-OutputArea-output .jupyter-widgets {case.widget}").first
            widget.wait_for(state="attached", timeout=60_000)
            widget.scroll_into_view_if_needed()
            assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in saved)
            page.screenshot(path=str(SCREENSHOTS / f"analyst_{case.name[:2]}.png"))
            before = _drawn(page, case.drawn)
            assert bool(before) == case.drawn_before, f"drawn under {case.drawn!r} before: {before[:300]!r}"
            did = case.interact(page)
            deadline = time.monotonic() + INTERACT_S
            while _drawn(page, case.drawn) == before:
                assert time.monotonic() < deadline, f"{did}: nothing redrawn under {case.drawn!r}"
                page.wait_for_timeout(500)
            lab_helpers.wait_kernel_idle(page, INTERACT_S * 1000)
            page.wait_for_timeout(500)
            assert not lab_helpers.error_outputs(page)
            if case.rendered:
                assert page.locator(f".jp-OutputArea-output {case.rendered}").count() > 0, f"{case.rendered} not drawn"
            page.screenshot(path=str(SCREENSHOTS / f"analyst_{case.name[:2]}_after.png"))
            if case.name == SHOWCASE:                # the group's route map in view, as an analyst sees it
                route = page.locator(".jp-OutputArea-output .jupyter-widgets iframe").first
                assert route.count(), "the explorer draws no route map"
                route.evaluate("e => e.scrollIntoView({block: 'center'})")
                page.wait_for_timeout(1500)
                page.screenshot(path=str(SCREENSHOTS / "analyst.png"))
        print(f"{case.name}: run all {ran:.1f}s, total {time.monotonic() - started:.1f}s")
    finally:
        page.close()
        lab.shutdown_kernels()
    found, _ = gt_guard.read_log(lab.guard_log)
    assert not found, [gt_guard.describe(v) for v in found[:5]]
    assert not seen["outside"], seen["outside"]
    assert not lab_helpers.unexplained(seen["page_errors"], case.known_errors), seen["page_errors"]


def _drawn(page, selector: str) -> str:
    """What the widgets draw (HTML panes, plots, embedded maps), not their controls."""
    return page.evaluate("""(sel) => [...document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets')]
        .flatMap(w => [...w.querySelectorAll(sel)]).map(e => e.innerHTML).join('\\n')""", selector)


def _save_and_read(page, lab, name: str) -> list[dict]:
    """File > Save, then the outputs JupyterLab saved (the kernel's view, beside what the page drew)."""
    page.locator(".lm-MenuBar-itemLabel", has_text="File").first.click()
    page.locator(".lm-Menu-item[data-command='docmanager:save']").click()
    page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                           ".jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty')", timeout=60_000)
    status, model = lab.api(f"/api/contents/{name}?content=1")
    assert status == 200
    return [o for c in model["content"]["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
