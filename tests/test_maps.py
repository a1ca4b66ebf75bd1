"""Map building without a browser: offline assets, escaping, aggregation and size bounds."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench import geography, maps
from workbench.errors import WorkbenchError


def test_lock_pins_versions_and_integrity():
    lock = json.loads(maps.LOCK_FILE.read_text())
    names = {p["name"] for p in lock["packages"]}
    assert "leaflet" in names
    for package in lock["packages"]:
        assert package["version"][0].isdigit() and "^" not in package["version"] and "~" not in package["version"]
        assert package["integrity"].startswith("sha512-")
        assert all(url.startswith("https://") for url in package["urls"])


def test_missing_assets_fail_with_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ASSETS_DIR", str(tmp_path / "empty"))
    m = maps.ForceMap("x")
    m.add_force_outlines(["13"])
    with pytest.raises(WorkbenchError) as info:
        m.save(tmp_path / "x.html", png=False)
    message = str(info.value)
    assert "leaflet@1.9.3" in message and "run make assets" in message and "\n" not in message
    assert not (tmp_path / "x.html").exists()


def test_unpinned_remote_asset_is_refused():
    page = '<html><head><script src="https://cdn.example.org/evil.js"></script></head></html>'
    with pytest.raises(WorkbenchError, match="not pinned"):
        maps.inline_assets(page)


def test_inlined_assets_replace_cdn_tags():
    page = ('<head><script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
            '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/></head>')
    out = maps.inline_assets(page)
    assert "https://cdn" not in out and "<script>/* leaflet@1.9.3 */" in out and "Leaflet 1.9.3" in out
    assert "<style>" in out and ".leaflet-container" in out
    assert "url(images/" not in out                       # leaflet's images inlined as data URIs
    assert "data:image/png;base64," in out


def test_escape():
    import html

    text = '<b onclick="x">&\'</b>'
    out = maps.esc(text)
    assert html.unescape(out) == text and not set("<>\"'") & set(out)
    assert maps.esc(None) == "" and maps.esc(float("nan")) == ""


def test_class_breaks_and_colours():
    breaks = maps.class_breaks([0, 1, 5, 10, 100, 1000])
    assert breaks == sorted(breaks) and breaks[-1] == 1000
    assert maps.colour_for(0, breaks) == maps.ZERO_COLOUR
    assert maps.colour_for(1000, breaks) == maps.PALETTE[-1]
    assert maps.colour_for(1, breaks) != maps.colour_for(1000, breaks)
    assert maps.class_breaks([0, 0]) == []


def test_many_points_are_aggregated_and_size_is_bounded(tmp_path):
    centroids = geography.lsoa_centroids()
    rng = np.random.default_rng(7)
    picks = centroids.sample(200_000, replace=True, random_state=7)
    frame = pd.DataFrame({"latitude": picks["latitude"].to_numpy() + rng.normal(0, 0.002, len(picks)),
                          "longitude": picks["longitude"].to_numpy() + rng.normal(0, 0.002, len(picks)),
                          "label": "<b>x</b>"})
    m = maps.ForceMap("Many points")
    m.add_force_outlines()
    shown = m.add_points(frame, max_points=1000)
    assert isinstance(shown, pd.Series) and shown.sum() <= len(frame) and len(shown) <= 3000
    result = m.save(tmp_path / "many.html", png=False)
    assert result["html_bytes"] < 3_000_000
    assert "quieter cells not drawn" in (tmp_path / "many.html").read_text()


def test_size_bound_is_enforced(tmp_path):
    m = maps.ForceMap("Too big")
    m.add_force_outlines()
    with pytest.raises(WorkbenchError, match="over the 0.1 MB bound"):
        m.save(tmp_path / "big.html", png=False, max_mb=0.1)


def test_output_must_be_html(tmp_path):
    with pytest.raises(WorkbenchError, match="must be an .html file"):
        maps.ForceMap("x").save(tmp_path / "x.pdf", png=False)


def test_national_map_on_empty_store(tmp_store, tmp_path):
    result = maps.national_force_map(tmp_store, tmp_path / "f.html", png=False)
    assert result["forces"] == 43 and result["incidents"] == 0 and result["forces_affected"] == 0
    page = (tmp_path / "f.html").read_text()
    assert "0 of 43 forces affected" in page and "OFFICIAL" in page
