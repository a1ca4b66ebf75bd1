"""The clerical review queue (`workbench link review`, workbench.linkage.review), the explanation waterfall
(`workbench link explain --chart`, workbench.linkage.waterfall) and progress on `link run`: most uncertain first
(checked against probabilities recomputed here from the weights), blind mode hiding the model's view, a decision
taking its pair out of the queue and changing the next run, escaped hostile names in the chart, audited exports,
one-line errors."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.cli_helpers import invoke as _invoke, one_line_error as _one_line_error
from tests.review_fixtures import HOSTILE_FORENAME, copy_of, review_store
from workbench.errors import WorkbenchError
from workbench.linkage import load_settings
from workbench.linkage import review, waterfall
from workbench.store import open_store

MODEL_VIEW = {"match_weight", "match_probability", "uncertainty"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return review_store(tmp_path_factory.mktemp("review"))


@pytest.fixture
def db(built, tmp_path):
    return copy_of(built, tmp_path)




def _queue(built, **kw):
    with open_store(built["db"], read_only=True) as store:
        return review.review_queue(store, settings=load_settings(built["settings"]), **kw)


# -- the person queue ---------------------------------------------------------------------------------------
def test_person_queue_is_the_review_band_most_uncertain_first(built):
    settings = load_settings(built["settings"])
    queue = _queue(built)
    assert len(queue) >= 5
    assert list(queue["rank"]) == list(range(1, len(queue) + 1))
    w = queue["match_weight"].astype(float)
    assert ((w >= settings.review) & (w < settings.auto_link)).all()
    # probabilities and the order recomputed here from the weights alone: |w| smallest is the coin toss
    p = [2 ** x / (1 + 2 ** x) for x in w]
    assert queue["match_probability"].tolist() == pytest.approx(p, abs=1e-3)
    closeness = [abs(x) for x in w]
    assert closeness == sorted(closeness), list(zip(queue.mention_a, w))
    assert w.iloc[0] != w.max() and w.iloc[0] != w.min()      # neither strongest- nor weakest-first
    with open_store(built["db"], read_only=True) as store:
        links = dict(store.sql("SELECT mention_id, person_id FROM person_links").itertuples(index=False))
        names = dict(store.sql("SELECT mention_id, full_name FROM person_mentions").itertuples(index=False))
    for row in queue.itertuples():
        assert row.mention_a != row.mention_b
        assert links[row.mention_a] != links[row.mention_b]        # not already one person
        assert (row.person_id_a, row.person_id_b) == (links[row.mention_a], links[row.mention_b])
        assert (row.full_name_a, row.full_name_b) == (names[row.mention_a], names[row.mention_b])


def test_the_crafted_near_misses_are_in_the_queue(built):
    queue = _queue(built)
    ids = built["ids"]
    pairs = {frozenset((a, b)) for a, b in zip(queue.mention_a, queue.mention_b)}
    assert frozenset((ids["C1"], ids["C3"])) in pairs          # Marcus / Marc Webb, far apart
    assert frozenset((ids["C4"], ids["C5"])) in pairs          # Priya Hughes, DOB day and month swapped


def test_blind_mode_hides_the_model_and_keeps_the_order(built):
    seen = _queue(built)
    blind = _queue(built, blind=True)
    assert not (MODEL_VIEW | {"candidates"}) & set(blind.columns)
    assert blind[["mention_a", "mention_b"]].equals(seen[["mention_a", "mention_b"]])
    text = blind.to_json(date_format="iso")
    for value in seen["match_weight"]:
        assert f"{value}" not in text                            # no weight leaks into any other column
    assert {"full_name_a", "full_name_b", "dob_a", "dob_b"} <= set(blind.columns)


def test_limit_keeps_the_most_uncertain(built):
    assert _queue(built, limit=2)[["mention_a", "mention_b"]].equals(_queue(built).head(2)[["mention_a", "mention_b"]])


def test_a_decision_leaves_the_queue_and_changes_the_next_run(built, db):
    from workbench.linkage import run as lrun

    settings = load_settings(built["settings"])
    with open_store(db) as store:
        first = review.review_queue(store, settings=settings).iloc[0]
        a, b = int(first.mention_a), int(first.mention_b)
        lrun.decide(store, "confirm", a, b, "same tattoo on CCTV")
        after = review.review_queue(store, settings=settings)
        assert not ((after.mention_a == a) & (after.mention_b == b)).any()
        assert len(after) == len(review.review_queue(store, settings=settings))
        second = after.iloc[0]                                     # a rejection, too, leaves the queue at once
        lrun.decide(store, "reject", int(second.mention_a), int(second.mention_b), "different heights on CCTV")
        rejected = review.review_queue(store, settings=settings)
        assert not ((rejected.mention_a == second.mention_a) & (rejected.mention_b == second.mention_b)).any()
        lrun.run_persons(store, settings)
        links = dict(store.sql("SELECT mention_id, person_id FROM person_links").itertuples(index=False))
        assert links[a] == links[b]
        queue = review.review_queue(store, settings=settings)
        together = [links[x] == links[y] for x, y in zip(queue.mention_a, queue.mention_b)]
        assert not any(together)


# -- the vehicle queue --------------------------------------------------------------------------------------
def test_review_queue_and_explain_show_the_same_weight_for_a_pair(built, capsys):
    """The queue's weight of a pair is the total of `link explain` for it (one scoring behind both)."""
    from workbench.linkage import run as lrun

    settings = load_settings(built["settings"])
    queue = _queue(built)
    picked = queue.iloc[:: max(1, len(queue) // 6)]
    assert len(picked) >= 3
    with open_store(built["db"], read_only=True) as store:
        for row in picked.itertuples():
            table = lrun.explain(store, row.mention_a, row.mention_b, settings=settings)
            total = float(table.loc[table.comparison == "total", "match_weight"].iloc[0])
            assert total == pytest.approx(row.match_weight, abs=1e-3), (row.mention_a, row.mention_b)
            parts = table[~table.comparison.isin(["total"])].match_weight.dropna().astype(float).sum()
            assert parts == pytest.approx(total, abs=1e-3)
    first = queue.iloc[0]
    shown = json.loads(_invoke(capsys, "link", "explain", str(first.mention_a), str(first.mention_b), "--db",
                               built["db"], "--json").output)
    assert shown[-1]["comparison"] == "total" and shown[-1]["match_weight"] == pytest.approx(first.match_weight,
                                                                                             abs=1e-3)


def test_vehicle_queue_partial_plates_then_description_conflicts(built):
    ids = built["ids"]
    queue = _queue(built, entity="vehicle")
    partial = queue[queue.reason.str.startswith("partial")]
    conflict = queue[queue.reason.str.startswith("one plate")]
    assert set(partial.mention_a) == {ids["V5"], ids["V6"]}
    assert {frozenset(p) for p in zip(partial.mention_a, partial.mention_b)} == {
        frozenset((ids[f], ids[v])) for f in ("V5", "V6") for v in ("V3", "V4")}
    assert partial.match_probability.tolist() == [0.5] * 4
    assert {frozenset(p) for p in zip(conflict.mention_a, conflict.mention_b)} == {frozenset((ids["V1"], ids["V2"]))}
    assert queue.index[queue.reason.str.startswith("one plate")].min() > partial.index.max()
    assert set(conflict.make_a.tolist() + conflict.make_b.tolist()) == {"Citroen Berlingo", "Renault Clio"}
    blind = _queue(built, entity="vehicle", blind=True)
    assert not (MODEL_VIEW | {"candidates"}) & set(blind.columns) and len(blind) == len(queue)


def test_queue_errors_are_one_line(built, tmp_path):
    with open_store(built["db"], read_only=True) as store:
        with pytest.raises(WorkbenchError, match="unknown entity"):
            review.review_queue(store, "car")
        with pytest.raises(WorkbenchError, match="at least 1"):
            review.review_queue(store, limit=0)
    with open_store(tmp_path / "empty.duckdb") as store:
        with pytest.raises(WorkbenchError, match="no person linkage run yet"):
            review.review_queue(store)
        with pytest.raises(WorkbenchError, match="no vehicle linkage run yet"):
            review.review_queue(store, "vehicle")


# -- the command line ---------------------------------------------------------------------------------------
def test_link_review_cli_json_blind_and_text(built, db, capsys):
    settings = built["settings"]
    rows = json.loads(_invoke(capsys, "link", "review", "--db", db, "--settings", settings, "--json").output)
    expected = _queue(built, limit=20)
    assert [(r["mention_a"], r["mention_b"]) for r in rows] == list(zip(expected.mention_a, expected.mention_b))
    assert all(isinstance(r["match_weight"], float) for r in rows)
    blind = _invoke(capsys, "link", "review", "--db", db, "--settings", settings, "--blind", "--limit", "3", "--json")
    blind_rows = json.loads(blind.output)
    assert [r["rank"] for r in blind_rows] == [1, 2, 3]
    assert not any(k in MODEL_VIEW for r in blind_rows for k in r)
    text = _invoke(capsys, "link", "review", "--db", db, "--settings", settings, "--limit", "2")
    assert text.exit_code == 0 and rows[0]["full_name_a"] in text.output and "match weight" in text.output
    assert "link decide --confirm" in text.output
    blind_text = _invoke(capsys, "link", "review", "--db", db, "--settings", settings, "--limit", "2", "--blind")
    assert "match weight" not in blind_text.output and f"{rows[0]['match_weight']:+.2f}" not in blind_text.output
    vehicles = json.loads(_invoke(capsys, "link", "review", "--db", db, "--entity", "vehicle", "--json").output)
    assert {r["reason"] for r in vehicles} == {"partial plate fits 2 vehicles", "one plate, two descriptions"}


def test_link_cli_one_line_errors(built, db, capsys, tmp_path):
    _one_line_error(_invoke(capsys, "link", "review", "--db", db, "--entity", "car"), "unknown entity")
    _one_line_error(_invoke(capsys, "link", "review", "--db", db, "--limit", "0"), "at least 1")
    empty = tmp_path / "empty.duckdb"
    with open_store(empty):
        pass
    _one_line_error(_invoke(capsys, "link", "review", "--db", empty), "no person linkage run yet")
    ids = built["ids"]
    _one_line_error(_invoke(capsys, "link", "explain", "999999", ids["C1"], "--db", db), "no person or vehicle mention")
    _one_line_error(_invoke(capsys, "link", "explain", "x1", ids["C1"], "--db", db), "not a mention id")
    _one_line_error(_invoke(capsys, "link", "explain", ids["V1"], ids["C1"], "--db", db), "vehicle mention")
    _one_line_error(_invoke(capsys, "link", "explain", ids["C1"], ids["C3"], "--db", db, "--chart", tmp_path / "c.pdf"),
                    ".pdf")
    _one_line_error(_invoke(capsys, "link", "decide", "--confirm", ids["C1"], ids["V1"], "--why", "x", "--db", db),
                    "two of a kind")
    _one_line_error(_invoke(capsys, "link", "decide", "--confirm", ids["C1"], "424242", "--why", "x", "--db", db),
                    "no person or vehicle mention")
    _one_line_error(_invoke(capsys, "link", "decide", "--reject", ids["C1"], ids["C1"], "--why", "x", "--db", db),
                    "two different mentions")


def test_link_run_progress_plain_lines_off_a_terminal_and_silent_with_json(built, db, capsys, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    plain = _invoke(capsys, "link", "run", "--db", db, "--settings", built["settings"])
    assert plain.exit_code == 0
    lines = [line for line in plain.err.splitlines() if line.startswith("link run")]
    steps = len(lines) // 2
    assert steps >= 2 and lines[0] == f"link run [1/{steps}]: resolving persons ..."
    assert lines[1].startswith(f"link run [1/{steps}]: resolving persons done in ")
    assert lines[3].startswith(f"link run [2/{steps}]: resolving vehicles done in ")
    assert lines[-1].startswith(f"link run [{steps}/{steps}]: ")
    quiet = _invoke(capsys, "link", "run", "--db", db, "--settings", built["settings"], "--json")
    assert "link run [" not in quiet.err and [r["entity"] for r in json.loads(quiet.output)][:2] == ["person", "vehicle"]


def test_progress_is_rich_only_on_a_terminal_outside_ci(monkeypatch):
    import sys

    from workbench.commands import link_cmds

    class Tty:
        def isatty(self):
            return True

        def write(self, _text):
            return 0

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stderr", Tty())
    monkeypatch.delenv("CI", raising=False)
    assert link_cmds._interactive() is True
    monkeypatch.setenv("CI", "true")
    assert link_cmds._interactive() is False
    monkeypatch.setenv("CI", "0")
    assert link_cmds._interactive() is True
    monkeypatch.setattr(sys, "stderr", object())
    assert link_cmds._interactive() is False


# -- the waterfall ------------------------------------------------------------------------------------------
def _hostile_table() -> pd.DataFrame:
    return pd.DataFrame([
        {"comparison": "prior", "level": "two random records", "value_a": None, "value_b": None, "match_weight": -9.5},
        {"comparison": "forename", "level": "exact", "value_a": HOSTILE_FORENAME, "value_b": HOSTILE_FORENAME,
         "match_weight": 7.25},
        {"comparison": "surname", "level": "<b>bold</b> & <img src=x onerror=alert(2)>", "value_a": "=cmd|' /C calc'!A0",
         "value_b": "x", "match_weight": -2.0},
        {"comparison": "dob", "level": "exact", "value_a": "1990-01-01", "value_b": "1990-01-01", "match_weight": 6.5},
        {"comparison": "context", "level": "cannot link: impossible travel </script><script>alert(3)</script>",
         "value_a": None, "value_b": None, "match_weight": None},
        {"comparison": "total", "level": "", "value_a": None, "value_b": None, "match_weight": 2.25}])


def test_waterfall_bars_add_up_to_the_total_and_text_is_escaped():
    fig = waterfall.waterfall_figure(_hostile_table(), title="<script>alert('t')</script>")
    bar = fig.data[0]
    assert list(bar.measure) == ["relative"] * 4 + ["total"]
    assert sum(bar.y[:-1]) == pytest.approx(2.25)                    # the prior and comparisons sum to the total
    assert [t for t in bar.text] == ["-9.50", "+7.25", "-2.00", "+6.50", "+2.25"]
    shown = json.dumps([list(bar.x), list(bar.hovertext), fig.layout.title.text,
                        [a.text for a in fig.layout.annotations]])
    assert "<script" not in shown and "<img" not in shown and "&lt;script&gt;" in shown
    assert "impossible travel" in shown                             # the context note is on the chart


def test_explanation_html_is_marked_offline_and_escaped(tmp_path):
    from workbench import config

    page = waterfall.explanation_html(_hostile_table(), "Title <script>alert(9)</script>", "sub & <i>x</i>",
                                      ["note <script>alert(8)</script>"])
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(9)" in page and "&lt;script&gt;alert(8)" in page
    assert page.count(config.security_marking()) >= 2
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", page)   # nothing fetched: inlined
    assert "Plotly.newPlot" in page


def test_explain_chart_html_is_audited(built, db, capsys):
    ids = built["ids"]
    out = db.parent / "why.html"
    result = _invoke(capsys, "link", "explain", ids["C1"], ids["C3"], "--db", db, "--chart", out, "--json")
    assert result.exit_code == 0, result.err
    payload = json.loads(result.output)
    assert payload["rows"][0]["comparison"] == "prior" and payload["chart"]["format"] == "html"
    total = [r["match_weight"] for r in payload["rows"] if r["comparison"] == "total"][0]
    assert payload["chart"]["total"] == pytest.approx(total, abs=1e-3)
    from workbench import exports

    sha, size = exports.file_digest(out)
    with open_store(db, read_only=True) as store:
        audit = store.sql("SELECT object, details FROM audit_log WHERE action = 'export'")
    details = [json.loads(d) for o, d in audit.itertuples(index=False) if o == str(out)]
    assert details and details[-1]["sha256"] == sha and details[-1]["kind"] == "link-explain-chart"
    assert size == payload["chart"]["bytes"]


def test_explain_chart_png_or_one_line_without_a_browser(built, db, capsys, monkeypatch, chromium_path):
    ids = built["ids"]
    out = db.parent / "why.png"
    result = _invoke(capsys, "link", "explain", ids["C1"], ids["C3"], "--db", db, "--chart", out)
    assert result.exit_code == 0, result.err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    monkeypatch.setenv("WORKBENCH_CHROMIUM", str(db.parent / "no-chromium"))
    missing = db.parent / "none.png"
    _one_line_error(_invoke(capsys, "link", "explain", ids["C1"], ids["C3"], "--db", db, "--chart", missing), "chromium")
    assert not missing.exists()


def test_waterfall_page_draws_hostile_names_as_text_in_a_browser(tmp_path, chromium_path):
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "w.html"
    page_file.write_text(waterfall.explanation_html(_hostile_table(), "t", ""), encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                       else route.abort())
            page.goto(page_file.as_uri())
            page.wait_for_selector("#wb-waterfall .main-svg")
            ticks = page.eval_on_selector_all("#wb-waterfall .xtick text", "els => els.map(e => e.textContent)")
            cells = page.eval_on_selector_all("#wb-table td", "els => els.map(e => e.textContent)")
            images = page.eval_on_selector_all("img", "els => els.length")
        finally:
            browser.close()
    assert not dialogs and images == 0
    assert HOSTILE_FORENAME in cells                                 # the table shows the name as text
    assert len(ticks) == 5 and any("<b>bold</b>" in t for t in ticks), ticks   # markup drawn as characters
