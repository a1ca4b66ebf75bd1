"""The guided training demonstration (widgets/training_demo.py) driven headless through every step and back: each
step computed from the training store (the quarantined arrival and its reason, the triage queue, the analyst's
decision changing the resolved subjects, the group, its route, MO candidates, the package), the notes and presenter
toggles, Reset restoring the case, and a second run after a reset showing exactly what the first showed (issue 14,
Done when). Notebook 06 is paired without outputs. The training case is built once per session (shared with
tests/test_training_demo_browser.py) from the quick sample world the linkage and cross-border tests share."""
from __future__ import annotations

import html
import json
import re
import shutil

import pytest

from benchmarks import bench_crossborder, bench_linkage
from tests import notebook_runner
from workbench import config, training
from workbench.errors import StoreError, WorkbenchError
from workbench.ingest import rules as ingest_rules
from workbench.store import open_store

MARK = "TRAINING - NOT REAL INTELLIGENCE"
NOTEBOOK = notebook_runner.NOTEBOOKS / "06_training_demo.py"


@pytest.fixture(scope="session")
def training_case(tmp_path_factory):
    """A training case folder built once per session (pristine: tests copy it before using it)."""
    root = tmp_path_factory.getbasetemp() / "bench_linkage_quick"
    _world, db = bench_linkage.build(root / "linkage_quick", bench_linkage.QUICK_SCALE)
    bench_crossborder._resolve_if_needed(str(db))
    case = tmp_path_factory.getbasetemp() / "training_demo_case"
    if not (case / "case.json").is_file():
        config.leave_training()
        training.build(db, case, seed=1)
    return case


@pytest.fixture(autouse=True)
def _leave_training():
    config.leave_training()
    yield
    config.leave_training()    # this process opened a training store: let the rest of the suite open real ones


@pytest.fixture
def case_copy(training_case, tmp_path):
    target = tmp_path / "case"
    shutil.copytree(training_case, target, ignore=shutil.ignore_patterns("session", "*.wal"))
    return target


def _lines(view: str) -> list[str]:
    return [html.unescape(x) for x in re.findall(r'class="wb-training-line"[^>]*>([^<]*)</p>', view)]


def _title(view: str) -> str:
    return html.unescape(re.search(r'class="wb-training-title"[^>]*>([^<]*)</h2>', view).group(1))


def _tables(view: str) -> dict[str, list[list[str]]]:
    out = {}
    for caption, body in re.findall(r"<h3[^>]*>([^<]*)</h3>\s*<table[^>]*>(.*?)</table>", view, flags=re.S):
        head = [html.unescape(c) for c in re.findall(r"<th[^>]*>([^<]*)</th>", body)]
        rows = [[html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", tr)]
                for tr in re.findall(r"<tr>(.*?)</tr>", body.split("</thead>")[-1], flags=re.S)]
        out[html.unescape(caption)] = [head, *rows]
    return out


def _diff(a: str, b: str) -> str:
    import difflib

    return "\n".join(list(difflib.unified_diff(a.split("<tr>"), b.split("<tr>"), lineterm="", n=0))[:12])


def _column(table, name):
    head, *rows = table
    return [r[head.index(name)] for r in rows]


def _walk(demo) -> list[str]:
    """One session as a trainer runs it: Next through every step, the analyst's decision on step 3."""
    views = [demo.view.value]
    while not demo.next_button.disabled:
        demo.next_button.click()
        if demo.step == 2:
            views.append(demo.view.value)
            demo.decide_button.click()
        views.append(demo.view.value)
    return views


def test_every_step_computes_from_the_training_store_and_a_second_run_after_reset_is_the_same(case_copy, tmp_path):
    from widgets.training_demo import STEPS, TrainingDemo

    session = tmp_path / "session"
    demo = TrainingDemo(case_copy, session)
    store_file = str(training.store_path(case_copy))
    # the widget opened only the training store and this process is now in training mode: real stores refused
    assert config.training_store() == store_file
    with pytest.raises(StoreError, match="not a training store"):
        open_store(tmp_path / "real.duckdb")
    first = _walk(demo)
    assert demo.step == len(STEPS) - 1 and len(first) == len(STEPS) + 1 and demo.next_button.disabled
    arrive, triage, resolve_before, resolve_after, network, route, mo, package = first
    for number, view in enumerate([arrive, triage, resolve_after, network, route, mo, package], start=1):
        assert _title(view) == f"Step {number} of {len(STEPS)}: {STEPS[number - 1][0]}"
        banners = re.findall(r'class="wb-training-marking"[^>]*>([^<]*)</div>', view)
        assert banners == [MARK, MARK] and "OFFICIAL" not in view

    forms = json.loads(training.arriving_extract(case_copy).read_text(encoding="utf-8"))
    missing = [f["referralReference"] for f in forms if not f.get("crimeNumber")]
    with training.open_training(case_copy, read_only=True) as store:
        batch = store.sql("SELECT batch_id, rows_read, rows_accepted, rows_quarantined FROM ingest_batches "
                          "WHERE file_name = $f", {"f": training.arriving_extract(case_copy).name})
        refs = set(store.sql("SELECT source_ref FROM referrals").source_ref)
        persons = store.sql("SELECT count(*) AS n FROM resolved_persons WHERE status = 'active'").n.iloc[0]
        decisions = store.sql("SELECT decision, why FROM link_decisions WHERE active")
        groups = set(store.sql("SELECT group_id FROM groups").group_id)
    # 1. the arrivals were ingested once; the one without a crime number is quarantined with its reason
    assert len(batch) == 1 and len(missing) == 1
    b = batch.iloc[0]
    assert (b.rows_read, b.rows_accepted, b.rows_quarantined) == (len(forms), len(forms) - 1, 1)
    assert _lines(arrive)[0].endswith(f"{len(forms)} referrals read, {len(forms) - 1} accepted, 1 quarantined.")
    quarantined = _tables(arrive)["Quarantined, with its reason"]
    assert _column(quarantined, "rule") == ["CRIME_NUMBER_MISSING"], quarantined
    assert _column(quarantined, "message")[0].startswith(ingest_rules.message("CRIME_NUMBER_MISSING")[:40])
    assert {f["referralReference"] for f in forms} - set(missing) <= refs and not set(missing) & refs
    # 2. the triage queue lists the store's referrals, pseudonymised references only
    queue = _column(_tables(triage)["Triage queue"], "source_ref")
    assert queue and set(queue) <= refs and all(r.startswith("TRN-") for r in queue)
    # 3. the analyst's decision re-resolved the subjects: one fewer, as the store says, and recorded
    count = int(re.match(r"(\d+) subjects", _lines(resolve_before)[0]).group(1))
    assert _lines(resolve_after)[0].startswith(f"{persons} subjects") and persons == count - 1
    assert f"{count} subjects before, {persons} now" in _lines(resolve_after)[1]
    assert list(decisions.decision) == ["confirm"] and "Analyst's decisions" in _tables(resolve_after)
    pairs = _tables(resolve_before)["Least certain pairs for the analyst"]
    assert all(n.startswith("Subject ") for n in _column(pairs, "name (a)") + _column(pairs, "name (b)"))
    # 4-6. the group, its route across forces, MO candidates elsewhere
    group = re.match(r"Group (\S+): (\d+) members", _lines(network)[0])
    members = _tables(network)["Members, key players first"]
    assert group and group.group(1) in groups and int(group.group(2)) == len(members) - 1 >= 2
    assert all(n.startswith("Subject ") for n in _column(members, "display_name"))
    forces = int(re.search(r"touches (\d+) forces", _lines(route)[0]).group(1))
    assert forces >= 2 and len(_tables(route)["Forces"]) - 1 == forces      # a cross-border group
    assert int(_lines(mo)[0].split()[0]) > 0 and len(_tables(mo)["MO candidates"]) > 1
    # 7. the package was written from the store, marked TRAINING
    files = _column(_tables(package)["Files written"], "file")
    assert files and all((session / "package" / f).is_file() for f in files)
    htmls = [f for f in files if f.endswith(".html")]
    assert htmls and MARK in (session / "package" / htmls[0]).read_text(encoding="utf-8")
    assert f"marked {MARK}" in _lines(package)[0]

    # Back through every step: the same views (nothing recomputed behind the trainer's back)
    back = [demo.view.value]
    while not demo.back_button.disabled:
        demo.back_button.click()
        back.append(demo.view.value)
        assert demo.step_list.value == demo.step
    assert back[::-1] == [arrive, triage, resolve_after, network, route, mo, package]
    # the step list jumps; the notes hide; the presenter view enlarges the text
    demo.step_list.value = 4
    assert demo.step == 4 and demo.view.value == route
    assert "Trainer's notes" in demo.notes.value and STEPS[4][1][0] in html.unescape(demo.notes.value)
    demo.notes_toggle.value = False
    assert demo.notes.value == "" and demo.notes.layout.display == "none"
    demo.notes_toggle.value = True
    assert demo.notes.layout.display is None and "Trainer's notes" in demo.notes.value
    demo.presenter_toggle.value = True
    assert "font-size: 1.6em" in demo.view.value and "font-size: 1em" in route
    demo.presenter_toggle.value = False

    # Reset: the case is back to its starting state (no decision; the arrivals ingested afresh on step 1)
    demo.reset_button.click()
    assert demo.step == 0 and "starting state" in demo.status.value
    with training.open_training(case_copy, read_only=True) as store:
        assert store.sql("SELECT count(*) AS n FROM link_decisions").n.iloc[0] == 0
        assert len(store.sql("SELECT 1 FROM ingest_batches WHERE file_name = $f",
                             {"f": training.arriving_extract(case_copy).name})) == 1
    # ... and the second run shows exactly what the first showed, step by step
    second = _walk(demo)
    for number, (a, b) in enumerate(zip(first, second, strict=True)):
        assert a == b, (number, _diff(a, b))


def test_refusals_are_one_line_and_notebook_06_is_paired(tmp_path):
    from widgets.training_demo import TrainingDemo, demo_page

    notebook_runner.assert_paired_without_outputs(NOTEBOOK)
    real = tmp_path / "real"
    real.mkdir()
    with open_store(real / "training.duckdb"):
        pass                                            # a real store where a training store should be
    with pytest.raises(WorkbenchError, match="not a training store"):
        TrainingDemo(real, tmp_path / "session")
    demo, page = demo_page(tmp_path / "nothing here", None)
    assert demo is None and "cannot start" in page.value and "workbench training build" in page.value
    assert config.training_store() is None
