"""Intelligence packages (issue 13): a subject profile a force can act on, graded, marked, sanitised, traceable
and reproducible (docs/packages.md).

    from workbench import packages as pk
    pkg = pk.compute(store, "GR00001")                  # sections, figures, annex (DataFrames), network: no files
    pk.save_words(store, "GR00001", "summary", text)    # the analyst's words, every version kept
    r = pk.build(store, "GR00001", "out/packages/GR00001", purpose="handover")   # HTML, PDF, DOCX, annex, ANX, manifest, zip
    pk.build(store, "GR00001", out, purpose="...", omit=["tactics"])  # the analyst's choice of sections (kept on rebuild)
    pk.verify(store, "out/packages/GR00001")            # {ok, problems}: every figure recomputed from the store
    pk.diff("old/dir", "new/dir")                       # new incidents, subjects, vehicles, forces since the last handover
    pk.set_state(store, "GR00001", "reviewed"); pk.set_state(store, "GR00001", "approved")
    pk.disseminate(store, "GR00001", 2, {"13": "lead", "06": "copy"}, "P", None, purpose="...")

Computation (content.py) returns data; formats.py renders through the templates (package.html.j2 on the marked
base page), workbench.exports (annex) and workbench.linkage.anx (ANX); sanitise.py withholds and reads back.
"""
from __future__ import annotations

from workbench.packages.builder import build, require_purpose
from workbench.packages.content import Package, compute
from workbench.packages.manifest import BUILD_TIME_FIELD, diff, load, verify
from workbench.packages.sanitise import check_outputs, docx_texts, read_back
from workbench.packages.settings import SECTIONS, WORDS_SECTIONS, choose_sections, package_settings
from workbench.packages.states import (disseminate, disseminations, latest_words, save_words, set_state, versions,
                                       words_history)

__all__ = ["BUILD_TIME_FIELD", "Package", "SECTIONS", "WORDS_SECTIONS", "build", "check_outputs", "choose_sections",
           "compute", "diff",
           "disseminate", "disseminations", "docx_texts", "latest_words", "load", "package_settings", "read_back",
           "require_purpose", "save_words", "set_state", "verify", "versions", "words_history"]
