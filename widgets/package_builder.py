"""PackageBuilder: pick a subject and the sections the package holds, edit the analyst's words (saved as new versions
in the store), preview the package inline, build it with a stated purpose and see the verify result. An ipywidgets panel composing library calls only:
workbench.packages (compute, save_words, latest_words, build, verify) and workbench.crossborder.several_forces.

    from widgets.package_builder import PackageBuilder
    builder = PackageBuilder(store, "out/packages")   # the group spanning most forces first, or subject="GR00004"
    builder.panel                                      # display in JupyterLab or Voila
    builder.words["summary"].value = "..."; builder.save_words(); builder.preview(); builder.build("why")
    builder.sections["tactics"].value = False          # leave a section out of the preview and the build

The section ticks start from the package already in the subject's folder (a rebuild keeps the analyst's choice),
else from the settings; the summary is always in (its tick is disabled).

The preview is the package page in a sandboxed iframe (templates/package_preview.html.j2: the page is escaped
into srcdoc and no script runs); errors a user can cause show as one line in the status, never a traceback.
"""
from __future__ import annotations

from pathlib import Path

import ipywidgets as w

from workbench import crossborder as xb
from workbench import packages
from workbench.errors import WorkbenchError
from workbench.packages.settings import REQUIRED_SECTIONS as REQUIRED
from workbench.render import fragment

TEMPLATE = "package_preview.html.j2"


class PackageBuilder:
    def __init__(self, store, out_root, subject: str | None = None):
        self.store = store
        self.out_root = Path(out_root)
        groups = xb.several_forces(store)
        options = [(f"{r.group_id} {r.label} ({r.forces} forces)", r.group_id) for r in groups.itertuples()]
        if subject and subject not in [v for _, v in options]:
            options.insert(0, (subject, subject))
        if not options:
            raise WorkbenchError("no group spans two or more forces: find groups first (`workbench link run`)")
        self.subject = w.Dropdown(options=options, value=subject or options[0][1], description="Subject")
        self.words = {s: w.Textarea(description=s, layout=w.Layout(width="100%", height="90px"))
                      for s in packages.WORDS_SECTIONS}
        from workbench.packages.content import SECTION_TITLES

        self.sections = {s: w.Checkbox(value=True, description=SECTION_TITLES[s], indent=False,
                                       disabled=s in REQUIRED, layout=w.Layout(width="230px"))
                         for s in packages.SECTIONS}
        self.purpose = w.Text(description="Purpose", placeholder="why this package is built (audited)",
                              layout=w.Layout(width="100%"))
        self.status = w.HTML()
        self.view = w.HTML()
        buttons = []
        for label, action in (("Save words", self.save_words), ("Preview", self.preview),
                              ("Build", lambda: self.build(self.purpose.value))):
            button = w.Button(description=label)
            button.on_click(lambda _b, act=action: act())
            buttons.append(button)
        self.subject.observe(lambda _c: (self.load_words(), self.load_sections()), names="value")
        self.panel = w.VBox([self.subject, w.HTML("<b>Sections</b>"),
                             w.Box(list(self.sections.values()), layout=w.Layout(flex_flow="row wrap")),
                             *self.words.values(), self.purpose, w.HBox(buttons), self.status, self.view])
        self.last_result: dict | None = None
        self.load_words()
        self.load_sections()

    def chosen_sections(self) -> list[str]:
        return [s for s, box in self.sections.items() if box.value or s in REQUIRED]

    def load_sections(self) -> None:
        from workbench.packages.builder import recorded_sections

        chosen = recorded_sections(self.out_root / self.subject.value, self.subject.value) or \
            packages.package_settings()["sections"]
        for section, box in self.sections.items():
            box.value = section in chosen or section in REQUIRED

    def _say(self, *lines: str) -> None:
        self.status.value = str(fragment(TEMPLATE, status=list(lines)))

    def load_words(self) -> None:
        latest = packages.latest_words(self.store, self.subject.value)
        for section, box in self.words.items():
            box.value = (latest.get(section) or {}).get("body") or ""

    def save_words(self) -> list[str]:
        saved = []
        try:
            with self.store.writing():
                for section, box in self.words.items():
                    if box.value.strip():
                        record = packages.save_words(self.store, self.subject.value, section, box.value)
                        saved.append(f"{section}: version {record['version']}"
                                     + (" (unchanged)" if record.get("unchanged") else " saved"))
        except WorkbenchError as exc:
            self._say(f"error: {exc}")
            return saved
        self._say(*(saved or ["nothing to save: every section is empty"]))
        return saved

    def preview(self) -> str:
        from workbench.packages import formats

        try:
            pkg = packages.compute(self.store, self.subject.value, settings={"sections": self.chosen_sections()})
        except WorkbenchError as exc:
            self._say(f"error: {exc}")
            return ""
        pkg.meta.update(version="(preview)", state="draft", document_date="(not built)", author="(preview)",
                        approved_by=None, approved_at=None, reviewed_by=None)
        page = formats.page_html(pkg)
        self.view.value = str(fragment(TEMPLATE, page=page))
        self._say(f"preview of {pkg.meta['subject_id']}: {len(pkg.contents['incidents']):,} incidents, lead force "
                  f"{pkg.meta['lead_force']} {pkg.meta['lead_force_name']}")
        return page

    def build(self, purpose: str | None) -> dict | None:
        out = self.out_root / self.subject.value
        try:
            result = packages.build(self.store, self.subject.value, out, purpose=purpose,
                                    sections=self.chosen_sections())
            check = packages.verify(self.store, out)
        except WorkbenchError as exc:
            self._say(f"error: {exc}")
            return None
        self.last_result = dict(result, verify=check)
        self._say(f"built {result['subject_id']} version {result['version']} ({result['state']}) in {out}: "
                  f"{len(result['files'])} files, PDF {result['pdf_pages']} pages, sections: "
                  f"{', '.join(result['sections'])}",
                  "verify: ok" if check["ok"] else "verify: " + "; ".join(check["problems"][:3]))
        return self.last_result
