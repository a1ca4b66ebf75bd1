"""ReadinessCheck: a retailer's extract (uploaded) or one referral (a form in a source's own columns) checked
against Opal's requirements: the score, the per-row problems in plain English, a corrected-template download, and
an explicit "Ingest these rows" button (off until ticked). An ipywidgets panel composing library calls only:
workbench.readiness (check_file, check_referral, write_template, ingest_checked).

    from widgets.readiness_check import ReadinessCheck
    check = ReadinessCheck(store, work_dir="out/readiness")
    check.panel                                   # display in JupyterLab or Voila
    check.check_bytes("extract.csv", data)        # what the upload does; check.check_form() for the form
    check.make_template(".xlsx"); check.ingest()  # the buttons

The check writes nothing to the store; the template is audited; ingest is the normal ingest. Errors a user can
cause show as one line in the status, never a traceback. HTML comes from templates/readiness_check.html.j2.
"""
from __future__ import annotations

import base64
import re
import tempfile
from pathlib import Path

import ipywidgets as w

from workbench import readiness as rd
from workbench.errors import WorkbenchError
from workbench.ingest.mapping import available_sources, load_mapping
from workbench.render import fragment

TEMPLATE = "readiness_check.html.j2"
MAX_ROWS_SHOWN = 200
MAX_UPLOAD_BYTES = 50_000_000
MIME = {".csv": "text/csv", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _safe_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(name)).name).strip("._") or "upload"
    return stem[:120]


def _referral_sources() -> list[str]:
    out = []
    for name in available_sources():
        try:
            m = load_mapping(name)
        except WorkbenchError:
            continue
        if m.kind == "referrals" and m.shape != "nested":
            out.append(name)
    return out


class ReadinessCheck:
    def __init__(self, store, work_dir=None, source: str | None = None):
        self.store = store
        self.work_dir = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="wb-readiness-"))
        self.result: rd.ReadinessResult | None = None
        self.template_file: Path | None = None
        sources = _referral_sources()
        self.upload = w.FileUpload(accept=".csv,.xlsx,.json,.jsonl,.txt", multiple=False,
                                   description="Upload extract")
        # "" rather than None for "detect": a Dropdown whose value is None shows no label at all
        self.source = w.Dropdown(options=[("(detect from the header)", "")] + [(s, s) for s in sources],
                                 value=source or "", description="Source")
        self.form_source = w.Dropdown(options=sources, value=source if source in sources else
                                      ("retailer_brightmart" if "retailer_brightmart" in sources else sources[0]),
                                      description="Form for")
        self.form_box = w.VBox()
        self.fields: dict[str, w.Text] = {}
        self.check_form_button = w.Button(description="Check this referral")
        self.template_format = w.Dropdown(options=[("XLSX", ".xlsx"), ("CSV", ".csv")], value=".xlsx",
                                          description="Template")
        self.template_button = w.Button(description="Make corrected template", disabled=True,
                                        layout=w.Layout(width="auto"))
        self.allow_ingest = w.Checkbox(value=False, description="I want to ingest these rows into the store",
                                       indent=False, layout=w.Layout(width="auto"))
        self.ingest_button = w.Button(description="Ingest these rows", disabled=True, button_style="warning")
        self.view = w.HTML()
        self.download = w.HTML()
        self.status = w.HTML()
        self.upload.observe(lambda _c: self._on_upload(), names="value")
        self.form_source.observe(lambda _c: self._build_form(), names="value")
        self.check_form_button.on_click(lambda _b: self.check_form())
        self.template_button.on_click(lambda _b: self.make_template(self.template_format.value))
        self.allow_ingest.observe(lambda _c: self._sync_ingest(), names="value")
        self.ingest_button.on_click(lambda _b: self.ingest())
        self._build_form()
        tabs = w.Tab(children=[w.VBox([self.source, self.upload]),
                               w.VBox([self.form_source, self.form_box, self.check_form_button])])
        tabs.set_title(0, "A retailer's extract")
        tabs.set_title(1, "One referral")
        self.panel = w.VBox([tabs, self.status, self.view, w.HBox([self.template_format, self.template_button]),
                             self.download, w.HBox([self.allow_ingest, self.ingest_button])])

    # -- input ------------------------------------------------------------------------------------
    def _build_form(self) -> None:
        mapping = load_mapping(self.form_source.value)
        self.fields = {h: w.Text(description=h[:18], placeholder=target.replace("_", " "),
                                 layout=w.Layout(width="420px"), style={"description_width": "150px"})
                       for h, target in mapping.columns.items()}
        self.form_box.children = list(self.fields.values())

    def _on_upload(self) -> None:
        files = self.upload.value
        if not files:
            return
        item = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = item.get("name") or item.get("metadata", {}).get("name") or "upload.csv"
        self.check_bytes(name, bytes(item["content"]))

    def check_bytes(self, name: str, data: bytes) -> rd.ReadinessResult | None:
        """Check an uploaded file: saved under work_dir (a private folder) and checked like any extract."""
        if len(data) > MAX_UPLOAD_BYTES:
            return self._fail(f"{_safe_name(name)}: {len(data):,} bytes is more than the page takes "
                              f"({MAX_UPLOAD_BYTES:,}); use `workbench readiness FILE`")
        folder = Path(tempfile.mkdtemp(prefix="upload-", dir=self._work()))
        path = folder / _safe_name(name)
        path.write_bytes(data)
        return self._run(lambda: rd.check_file(self.store, path, source=self.source.value or None))

    def check_form(self, values: dict | None = None) -> rd.ReadinessResult | None:
        """Check the single referral typed into the form (or `values`, {column: value})."""
        if values is not None:
            for header, value in values.items():
                if header in self.fields:
                    self.fields[header].value = str(value)
        given = {h: box.value for h, box in self.fields.items() if box.value.strip()}
        return self._run(lambda: rd.check_referral(self.store, given, self.form_source.value))

    def _work(self) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir

    def _run(self, check) -> rd.ReadinessResult | None:
        self.result, self.template_file = None, None
        self.download.value = ""
        try:
            self.result = check()
        except WorkbenchError as exc:
            return self._fail(f"error: {exc}")
        self._show()
        self.template_button.disabled = False
        self._sync_ingest()
        return self.result

    def _fail(self, line: str):
        self.view.value = ""
        self.template_button.disabled = True
        self._sync_ingest()
        self._say(line)
        return None

    # -- output -----------------------------------------------------------------------------------
    def _say(self, *lines: str) -> None:
        self.status.value = str(fragment(TEMPLATE, status=list(lines)))

    def _show(self) -> None:
        r = self.result
        by_row = {k: g for k, g in r.problems.groupby("row")} if len(r.problems) else {}
        rows = []
        for rec in r.rows.head(MAX_ROWS_SHOWN).itertuples(index=False):
            g = by_row.get(rec.row)
            rows.append({"row": rec.row, "referral_ref": rec.referral_ref, "ready": bool(rec.ready),
                         "problems": [] if g is None else g[["rule", "severity", "message"]].to_dict("records")})
        more = max(0, len(r.rows) - MAX_ROWS_SHOWN)
        self.view.value = str(fragment(TEMPLATE, score=r.score, file_problems=r.file_problems, rows=rows, more=more))
        self._say(f"checked {r.file}: nothing was stored")

    def make_template(self, suffix: str = ".xlsx") -> Path | None:
        """Write the corrected template (audited) and offer it as a download link."""
        if self.result is None:
            self._say("check a file or a referral first")
            return None
        stem = _safe_name(Path(self.result.file).stem).replace(" ", "_")
        out = Path(tempfile.mkdtemp(prefix="template-", dir=self._work())) / f"{stem}_corrected{suffix}"
        try:
            written = rd.write_template(self.store, self.result, out, purpose="readiness check page: corrected "
                                                                              "template for the retailer")
        except WorkbenchError as exc:
            self._say(f"error: {exc}")
            return None
        self.template_file = out
        self.download.value = str(fragment(TEMPLATE, download={
            "name": out.name, "mime": MIME[suffix], "marking": written["marking"],
            "data": base64.b64encode(out.read_bytes()).decode("ascii")}))
        self._say(f"corrected template written ({written['rows']} rows, {written['format']}); audited")
        return out

    def _sync_ingest(self) -> None:
        self.ingest_button.disabled = not (self.allow_ingest.value and self.result is not None)

    def ingest(self) -> dict | None:
        """The normal ingest of the checked file; only when the box is ticked."""
        if not self.allow_ingest.value or self.result is None:
            self._say("tick 'I want to ingest these rows' first: the check alone stores nothing")
            return None
        try:
            report = rd.ingest_checked(self.store, self.result)
        except WorkbenchError as exc:
            self._say(f"error: {exc}")
            return None
        self.allow_ingest.value = False
        self._say(f"ingested {self.result.file}: batch {report.get('batch_id')}, {report.get('rows_accepted')} rows "
                  f"accepted, {report.get('rows_quarantined')} quarantined with their reasons"
                  if report.get("status") == "committed" else f"{self.result.file}: {report.get('note', 'no-op')}")
        return report
