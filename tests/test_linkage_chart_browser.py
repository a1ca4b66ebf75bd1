"""The offline HTML link chart opened in headless Debian chromium (file:// only, every other request
blocked): it draws the network, clicking a node shows its card, filters and search work, and a hostile
name is shown as text (no script runs, no dialog opens, no element is injected)."""
from __future__ import annotations

import pytest

from tests.linkage_chart_helpers import EVIL, FORMULA, expected_visible, hand_network
from workbench import config, maps
from workbench.linkage import charts

from tests.browser_helpers import open_offline

pytestmark = pytest.mark.browser


def _open(chromium_path, html_path, action):
    def ready_then(page):
        page.wait_for_function("() => window.wbChart !== undefined")
        return action(page)

    seen = open_offline(chromium_path, html_path, ready_then)
    return seen.result, seen.attempted, seen.console_errors, seen.page_errors, seen.dialogs


def _shown(page) -> set[str]:
    return set(page.evaluate("""() => window.wbChart.cy.nodes()
        .filter(n => n.style('display') !== 'none').map(n => n.id())"""))


def _click_node(page, node_id):
    """A real mouse click on the node where cytoscape drew it."""
    pos = page.evaluate("""(id) => { const n = window.wbChart.cy.getElementById(id);
        const p = n.renderedPosition(); const box = document.getElementById('wb-cy').getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y}; }""", node_id)
    page.mouse.click(pos["x"], pos["y"])
    page.wait_for_timeout(100)


def _card(page) -> dict:
    return page.evaluate("""() => { const out = {label: document.getElementById('wb-card-label')?.innerText};
        const dts = document.querySelectorAll('#wb-card dt');
        dts.forEach(dt => { out[dt.innerText] = dt.nextElementSibling.innerText; });
        return out; }""")


def test_chart_renders_clicks_filters_and_searches_offline(tmp_path, tmp_store, chromium_path):
    net = hand_network()
    out = charts.write_link_chart(net, tmp_path / "chart.html", title="Group GR00001 <b>",
                                  marking="NOT FOR <i>DISCLOSURE</i>", store=tmp_store)

    def act(page):
        state = {"total": page.evaluate("() => window.wbChart.cy.nodes().length"),
                 "edges": page.evaluate("() => window.wbChart.cy.edges().length"),
                 "count": page.inner_text("#wb-count"), "shown": _shown(page),
                 "top": page.inner_text("#wb-marking-top"), "bottom": page.inner_text("#wb-marking-bottom"),
                 "handling": [page.inner_text("#wb-handling-top"), page.inner_text("#wb-handling-bottom")],
                 "title": page.inner_text("#wb-title"),
                 "drawn": page.evaluate("() => document.querySelectorAll('#wb-cy canvas').length")}
        _click_node(page, "P:RP0000001")
        state["card_evil"] = _card(page)
        _click_node(page, "P:RP0000002")
        state["card_formula"] = _card(page)
        _click_node(page, "P:RP0000003")
        state["card_ungraded"] = _card(page)
        page.select_option("#wb-force", "13")
        state["force_13"] = _shown(page)
        state["count_13"] = page.inner_text("#wb-count")
        page.select_option("#wb-force", "")
        page.fill("#wb-since", "2024-03-01")
        page.dispatch_event("#wb-since", "change")
        state["since_march"] = _shown(page)
        page.fill("#wb-until", "2024-03-31")
        page.dispatch_event("#wb-until", "change")
        state["march"] = _shown(page)
        page.click("#wb-reset")
        state["reset"] = _shown(page)
        page.fill("#wb-search", "ab12cde")
        state["search_vrm"] = page.eval_on_selector_all("#wb-results li", "els => els.map(e => e.innerText)")
        state["matched"] = page.evaluate("() => window.wbChart.cy.nodes('.wb-match').map(n => n.id())")
        page.fill("#wb-search", "evil &")
        page.click("#wb-results li")
        state["card_from_search"] = _card(page)
        state["pwned"] = page.evaluate("() => window.__pwned === undefined ? null : window.__pwned")
        state["imgs"] = page.evaluate("() => document.querySelectorAll('img').length")
        state["scripts"] = page.evaluate("() => document.querySelectorAll('script').length")
        return state

    state, attempted, console_errors, page_errors, dialogs = _open(chromium_path, out, act)
    assert attempted == [] and console_errors == [] and page_errors == [] and dialogs == []
    # every node and edge of the network is drawn
    assert state["total"] == len(net.nodes) and state["edges"] == len(net.edges) and state["drawn"] >= 1
    assert state["count"] == f"{len(net.nodes)} of {len(net.nodes)} nodes shown"
    assert state["shown"] == set(net.nodes.node_id)
    assert state["top"] == state["bottom"] == config.security_marking()
    assert state["handling"] == ["NOT FOR <i>DISCLOSURE</i>"] * 2 and state["title"] == "Group GR00001 <b>"
    # the hostile name is the card's text, character for character, and nothing of it ran
    evil = state["card_evil"]
    assert evil["label"] == EVIL
    assert evil["Grading"] == "B2P" and evil["Source"] == "REF-1 row 2" and evil["Type"] == "Person"
    assert evil["First seen"] == "2024-01-10" and evil["Last seen"] == "2024-02-15" and evil["Force"] == "13"
    assert evil["dob"] == "1990-03-12" and evil["Group"] == "GR00001"
    assert state["card_formula"]["label"] == FORMULA and state["card_formula"]["Grading"] == "2BP; C3C"
    assert state["card_ungraded"]["label"] == "Jon Smyth" and state["card_ungraded"]["Grading"] == "not graded"
    assert state["pwned"] is None and state["imgs"] == 0 and state["scripts"] == 3
    # filters follow the documented rule (computed independently in the helper)
    assert state["force_13"] == expected_visible(net, force="13")
    assert "P:RP0000003" not in state["force_13"] and "V:RV0000001" in state["force_13"]
    assert state["count_13"] == f"{len(state['force_13'])} of {len(net.nodes)} nodes shown"
    assert state["since_march"] == expected_visible(net, since="2024-03-01")
    assert state["march"] == expected_visible(net, since="2024-03-01", until="2024-03-31")
    assert state["march"] == {"I:103", "P:RP0000002", "V:RV0000002", "S:TST-2"}
    assert state["reset"] == set(net.nodes.node_id)
    # search by VRM (spaces and case ignored) and by name; a result opens the card
    assert state["search_vrm"] == ["AB12 CDE (Vehicle)"] and state["matched"] == ["V:RV0000001"]
    assert state["card_from_search"]["label"] == EVIL
