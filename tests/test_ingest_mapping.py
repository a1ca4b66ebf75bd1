"""Source mappings: the worked example in docs/adding-a-source.md works with no code, every shipped mapping
loads, and mapping mistakes name the file and the key."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DOC = Path(__file__).resolve().parent.parent / "docs" / "adding-a-source.md"


def _doc_mapping() -> str:
    text = DOC.read_text(encoding="utf-8")
    return re.search(r"```yaml\n(.*?)```", text, re.S).group(1)


def test_every_sample_source_has_a_mapping():
    from workbench.ingest.mapping import all_mappings
    from workbench.sample.formats import SOURCE_FORMATS

    maps = all_mappings()
    for fmt in SOURCE_FORMATS:
        m = maps[fmt.name]
        assert m.shape == fmt.shape and m.source_type == fmt.source_type
        assert list(m.columns.items()) == [tuple(c) for c in fmt.columns]
    assert maps["store_directory"].kind == "stores"
    assert maps["police_uk_street"].kind == "recorded_crime"


def test_worked_example_from_the_docs(tmp_path, tmp_store):
    from workbench.ingest import ingest_file

    mapping = tmp_path / "retailer_quickstop.yaml"
    mapping.write_text(_doc_mapping(), encoding="utf-8")
    data = tmp_path / "quickstop_march.csv"
    data.write_text(
        "Ref|Shop|When|Police|Crime Ref|Stolen £|People|Names|How|Hurt|Car|Story|Sent\n"
        "QS-0001|0042|24.03.2025 18:05|Thames Valley Police|43/12345/25|84.20|2|Ann Lee & Bo Ray|foil bag & razors & smash and grab"
        "|no|AB12CDE|Two took razors|25.03.2025 09:00\n"
        "QS-0002|0042|26.03.2025 10:00|TVP|||1|Cy Dee|distraction|yes||One distracted staff|27.03.2025 09:00\n",
        encoding="utf-8")
    report = ingest_file(tmp_store, data, source=str(mapping))
    assert (report["rows_read"], report["rows_accepted"], report["rows_quarantined"]) == (2, 1, 1)
    assert report["errors_by_rule"] == {"CRIME_NUMBER_MISSING": 1}
    incident = tmp_store.sql("SELECT crime_number_norm, force_code, value_gbp, occurred_at FROM incidents").iloc[0]
    assert incident.crime_number_norm == "431234525" and incident.force_code == "43"
    assert float(incident.value_gbp) == 84.20 and str(incident.occurred_at) == "2025-03-24 18:05:00"
    tactics = set(tmp_store.sql("SELECT tactic_code FROM incident_tactics").tactic_code)
    assert tactics == {"FOIL", "RAZOR", "RUSH"}
    names = set(tmp_store.sql("SELECT full_name FROM person_mentions").full_name)
    assert names == {"Ann Lee", "Bo Ray"}
    assert tmp_store.sql("SELECT vrm_format FROM vehicle_mentions").vrm_format.tolist() == ["current"]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(shape="wide"), "key 'shape' must be one of incident, offender, nested"),
    (lambda d: d["columns"].update(Hurt="injury"), "key 'columns.Hurt' maps to unknown field 'injury'"),
    (lambda d: d.update(colums={}), "key 'colums' is not a mapping key"),
    (lambda d: d.update(name="other"), "key 'name' is 'other' but must equal the file name stem"),
    (lambda d: d.pop("retailer"), "key 'retailer' is required for a retailer source"),
    (lambda d: d["columns"].pop("Crime Ref"), "must map a column to the required field 'crime_number'"),
    (lambda d: d["columns"].update(Story="crime_number"), "maps to 'crime_number', already mapped from 'Crime Ref'"),
    (lambda d: d.update(delimiter="||"), "key 'delimiter' must be a single character"),
])
def test_mapping_mistakes_name_file_and_key(tmp_path, change, message):
    from workbench.errors import WorkbenchError
    from workbench.ingest.mapping import load_mapping_file

    data = yaml.safe_load(_doc_mapping())
    change(data)
    path = tmp_path / "retailer_quickstop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(WorkbenchError) as info:
        load_mapping_file(path)
    assert str(info.value).startswith("source mapping retailer_quickstop.yaml: ")
    assert message in str(info.value)


def test_invalid_yaml_is_one_line(tmp_path):
    from workbench.errors import WorkbenchError
    from workbench.ingest.mapping import load_mapping_file

    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(WorkbenchError, match="broken.yaml is not valid YAML"):
        load_mapping_file(path)


def test_police_uk_street_files_load_as_recorded_crime(tmp_store):
    """The shipped police.uk West Yorkshire street files (real OGL data) through the police_uk_street mapping."""
    from workbench.ingest import ingest_file

    folder = Path(__file__).resolve().parent.parent / "sample_data" / "police_uk"
    files = sorted(folder.glob("*-street-shoplifting.csv"))
    if not files:
        pytest.skip("sample_data/police_uk is not present")
    total = 0
    for f in files:
        report = ingest_file(tmp_store, f)
        assert report["source"] == "police_uk_street" and report["rows_quarantined"] == 0
        assert report["recorded_crimes_new"] == report["rows_read"]
        total += report["rows_read"]
    assert tmp_store.con.execute("SELECT count(*), count(DISTINCT force_code), min(month) FROM recorded_crimes"
                                 ).fetchone() == (total, 1, __import__("datetime").date(2016, 7, 1))
    assert tmp_store.con.execute("SELECT count(*) FROM referrals").fetchone()[0] == 0  # context, not referrals


@pytest.mark.parametrize("sep", [" / ", "/"])
def test_omitted_dob_keeps_its_place_when_the_separator_is_inside_dates(tmp_path, tmp_store, sep):
    """Harvest-style extracts join DOBs with " / " (BuildRight with "/") although dd/mm/yyyy dates hold "/" too:
    an omitted DOB must leave its slot empty, not hand the next offender's DOB to the wrong person."""
    from workbench.ingest import ingest_file

    text = (_doc_mapping().replace('multi_sep: " & "', f'multi_sep: "{sep}"')
            .replace('datetime_formats: ["%d.%m.%Y %H:%M"]',
                     'datetime_formats: ["%d.%m.%Y %H:%M"]\ndate_formats: ["%d/%m/%Y"]')
            .replace("  Names: offender_names", "  Names: offender_names\n  DOBs: offender_dobs"))
    mapping = tmp_path / "retailer_quickstop.yaml"
    mapping.write_text(text, encoding="utf-8")
    names = sep.join(["Ann Lee", "Bo Ray", "Cy Dee", "Di Fox"])
    dobs = sep.join(["01/02/1990", "", "03/04/1992", "1992-13-40"])
    data = tmp_path / "quickstop_march.csv"
    data.write_text(
        "Ref|Shop|When|Police|Crime Ref|Stolen £|People|Names|DOBs|How|Hurt|Car|Story|Sent\n"
        f"QS-0001|0042|24.03.2025 18:05|Thames Valley Police|43/12345/25|84.20|4|{names}|{dobs}|razors"
        "|no||Four took razors|25.03.2025 09:00\n", encoding="utf-8")
    report = ingest_file(tmp_store, data, source=str(mapping))
    assert report["rows_accepted"] == 1, report
    got = tmp_store.sql("SELECT full_name, coalesce(CAST(dob AS VARCHAR), '-') AS dob FROM person_mentions")
    assert dict(zip(got.full_name, got.dob)) == {"Ann Lee": "1990-02-01", "Bo Ray": "-", "Cy Dee": "1992-04-03",
                                                 "Di Fox": "-"}
    # the malformed DOB is flagged with its own text, not dropped
    assert report["warnings_by_rule"].get("DOB_UNPARSEABLE") == 1
    flagged = tmp_store.sql("SELECT message FROM validation_flags WHERE rule_code = 'DOB_UNPARSEABLE'").message
    assert len(flagged) == 1 and "1992-13-40" in flagged.iloc[0]
