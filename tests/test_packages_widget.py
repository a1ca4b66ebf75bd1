"""widgets/package_builder.PackageBuilder on the session's linked world (tests/test_crossborder_explorer.linked_world,
never ground truth), driven as an analyst would: words saved as versions, a preview that shows hostile text as
text in a sandboxed iframe, a build refused without a purpose (one line in the status), then built and verified."""
from __future__ import annotations

import html
import shutil

import pytest

from tests.test_crossborder_explorer import linked_world
from workbench import packages
from workbench.store import open_store


@pytest.fixture
def store(tmp_path_factory, tmp_path):
    db = tmp_path / "widget.duckdb"
    shutil.copy(linked_world(tmp_path_factory.getbasetemp()), db)
    open_store(db).close()          # migrated once, then held read-only as a notebook holds it
    with open_store(db, read_only=True) as held:
        yield held


@pytest.mark.slow
def test_builder_saves_words_previews_and_builds(store, tmp_path):
    from widgets.package_builder import PackageBuilder

    builder = PackageBuilder(store, tmp_path / "packages")
    subject = builder.subject.value
    builder.words["summary"].value = 'Summary <script>alert("x")</script> by the analyst.'
    assert builder.save_words() == ["summary: version 1 saved"]
    builder.words["summary"].value = "Second version."
    builder.save_words()
    history = packages.words_history(store, subject)
    assert history[history.section == "summary"].version.tolist() == [2, 1]

    page = builder.preview()
    assert "Second version." in page and 'sandbox=""' in builder.view.value
    assert html.unescape(builder.view.value.split('srcdoc="', 1)[1]).startswith("<!DOCTYPE html>")
    assert "<script>" not in builder.view.value

    assert builder.build("") is None
    assert "--purpose is required" in builder.status.value and not (tmp_path / "packages" / subject).exists()
    result = builder.build("test: widget build")
    assert result["verify"]["ok"] and "verify: ok" in builder.status.value
    assert packages.load(tmp_path / "packages" / subject)["words"]["summary"]["version"] == 2


@pytest.mark.slow
def test_section_ticks_change_the_preview_and_the_built_package(store, tmp_path):
    """Untick two sections: the preview and the built package (HTML headings, ANX, manifest) lose them and verify
    passes; a new panel on the same folder starts from that choice; tick them again: they are back."""
    import re

    from widgets.package_builder import PackageBuilder

    def headings(page: str) -> list[str]:
        return [k for k in re.findall(r'<h2 id="pk-([a-z]+)">', page) if k != "provenance"]

    builder = PackageBuilder(store, tmp_path / "packages")
    subject = builder.subject.value
    folder = tmp_path / "packages" / subject
    assert builder.chosen_sections() == list(packages.SECTIONS) and builder.sections["summary"].disabled
    assert headings(builder.preview()) == list(packages.SECTIONS)
    builder.sections["associations"].value = False
    builder.sections["timeline"].value = False
    builder.sections["summary"].value = False                # disabled in the panel; never left out
    kept = [s for s in packages.SECTIONS if s not in ("associations", "timeline")]
    assert headings(builder.preview()) == kept
    result = builder.build("test: widget sections")
    assert result["verify"]["ok"] and result["sections"] == kept
    assert headings((folder / "package.html").read_text(encoding="utf-8")) == kept
    assert not (folder / "associations.anx").exists()
    assert packages.load(folder)["package"]["sections_omitted"] == ["associations", "timeline"]

    again = PackageBuilder(store, tmp_path / "packages", subject=subject)
    assert again.chosen_sections() == kept
    again.sections["associations"].value = again.sections["timeline"].value = True
    result = again.build("test: widget all sections")
    assert result["verify"]["ok"] and result["sections"] == list(packages.SECTIONS)
    assert headings((folder / "package.html").read_text(encoding="utf-8")) == list(packages.SECTIONS)
    assert (folder / "associations.anx").exists()
