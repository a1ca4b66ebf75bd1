"""Browse ingest batches and the quarantine, and triage referrals: an ipywidgets panel over library calls.

    from widgets.ingest_browser import IngestBrowser
    IngestBrowser(store).panel        # display in JupyterLab or Voila

Every value shown is HTML-escaped (narratives and raw rows may hold markup or formulas). The export goes
through workbench.ingest.quarantine.export: the shared formula-safe writer (workbench.exports), audited
with its sha256 and the optional purpose typed here.
"""
from __future__ import annotations

import html
import json

import ipywidgets as w
import pandas as pd

from workbench.ingest import quarantine, triage
from workbench.store import Store


def _table(frame: pd.DataFrame, max_rows: int = 200) -> str:
    if frame.empty:
        return "<p><i>none</i></p>"
    more = f"<p>... {len(frame) - max_rows} more rows</p>" if len(frame) > max_rows else ""
    return frame.head(max_rows).to_html(index=False, escape=True, border=0, classes="wb-table") + more


class IngestBrowser:
    """Tabs: batches, quarantine (filter, inspect, export), completeness, reasons, referral queue (open alerts
    first)."""

    def __init__(self, store: Store, export_dir: str = "out/quarantine"):
        self.store = store
        self.export_dir = export_dir
        self.batches_html = w.HTML()
        sources = sorted(quarantine.list_entries(store, status=None)["source_name"].dropna().unique())
        self.source = w.Dropdown(options=["(all)"] + sources, description="source")
        self.status = w.Dropdown(options=["open", "exported", "resolved", "all"], value="open", description="status")
        self.entries_html = w.HTML()
        self.entry_id = w.BoundedIntText(min=0, max=10 ** 12, description="entry id")
        self.show_button = w.Button(description="Show entry")
        self.entry_html = w.HTML()
        self.export_button = w.Button(description="Export for correction", button_style="warning")
        self.purpose = w.Text(description="purpose", placeholder="optional: why this export (recorded in the audit)")
        self.export_out = w.HTML()
        self.completeness_out = w.Output()
        self.reasons_out = w.Output()
        self.queue_html = w.HTML()
        self.source.observe(lambda _: self.refresh_entries(), names="value")
        self.status.observe(lambda _: self.refresh_entries(), names="value")
        self.show_button.on_click(lambda _: self.show_entry())
        self.export_button.on_click(lambda _: self.export())
        quarantine_tab = w.VBox([w.HBox([self.source, self.status]), self.entries_html,
                                 w.HBox([self.entry_id, self.show_button]), self.entry_html,
                                 w.HBox([self.export_button, self.purpose]), self.export_out])
        self.tabs = w.Tab(children=[self.batches_html, quarantine_tab, self.completeness_out, self.reasons_out,
                                    self.queue_html])
        for i, title in enumerate(["Batches", "Quarantine", "Completeness", "Reasons", "Referral queue"]):
            self.tabs.set_title(i, title)
        self.panel = w.VBox([w.HTML("<h3>Ingest batches, quarantine and triage</h3>"), self.tabs])
        self.refresh()

    # -- refresh ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.batches_html.value = _table(triage.batches(self.store))
        self.refresh_entries()
        completeness = triage.completeness(self.store)
        reasons = triage.reasons(self.store)
        self.completeness_out.clear_output()
        with self.completeness_out:
            if completeness.empty:
                print("no referral batches yet")
            else:
                triage.completeness_chart(completeness).show()
        self.reasons_out.clear_output()
        with self.reasons_out:
            if reasons.empty:
                print("nothing in quarantine")
            else:
                triage.reasons_chart(reasons).show()
        self.queue_html.value = self.alerts_html() + _table(triage.referral_queue(self.store, 100))

    def alerts_html(self) -> str:
        """Open alerts (workbench.linkage.alerts), shown at the top of the referral queue, escaped."""
        from workbench.linkage import alerts

        frame = alerts.list_alerts(self.store, "open")
        if frame.empty:
            return ""
        shown = frame.loc[:, ["alert_id", "reason", "mention_text", "source_ref", "entity_id", "entity_label",
                              "match_weight", "matched_by", "batch_id", "raised_at"]]
        return (f"<h4>Open alerts ({len(frame)}): new referrals matching known people or vehicles</h4>"
                + _table(shown, 50) + "<h4>Referral queue</h4>")

    def _filters(self) -> tuple[str | None, str | None]:
        source = None if self.source.value == "(all)" else self.source.value
        status = None if self.status.value == "all" else self.status.value
        return source, status

    def refresh_entries(self) -> pd.DataFrame:
        source, status = self._filters()
        frame = quarantine.list_entries(self.store, source=source, status=status)
        self.entries_html.value = _table(frame, 100)
        if not frame.empty and not self.entry_id.value:
            self.entry_id.value = int(frame["quarantine_id"].iloc[0])
        return frame

    def show_entry(self) -> dict | None:
        try:
            entry = quarantine.show(self.store, int(self.entry_id.value))
        except Exception as exc:  # a message for the analyst, not a traceback
            self.entry_html.value = f"<p>{html.escape(str(exc))}</p>"
            return None
        reasons = "".join(f"<li><b>{html.escape(r['rule'])}</b> ({html.escape(r['severity'])}): "
                          f"{html.escape(r['message'])}"
                          + (f" <code>{html.escape(str(r['value']))}</code>" if r.get("value") else "") + "</li>"
                          for r in entry["reasons"])
        raw = entry["raw"] if isinstance(entry["raw"], dict) else {"row": entry["raw"]}
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
                       for k, v in raw.items())
        self.entry_html.value = (f"<p>{html.escape(entry['source_file'])} row {entry['row_number']} "
                                 f"({html.escape(entry['status'])})</p><ul>{reasons}</ul><table>{rows}</table>")
        return entry

    def export(self) -> dict | None:
        from pathlib import Path

        source, _ = self._filters()
        target = Path(self.export_dir) / f"quarantine_{source or 'all'}.csv"
        try:
            with self.store.writing():  # a store held read-only (as notebooks hold it) writes just for this
                result = quarantine.export(self.store, target, source=source, purpose=self.purpose.value or None)
        except Exception as exc:
            self.export_out.value = f"<p>{html.escape(str(exc))}</p>"
            return None
        self.export_out.value = f"<p>wrote {result['rows']} rows to {html.escape(result['file'])}</p>"
        self.refresh_entries()
        return result
