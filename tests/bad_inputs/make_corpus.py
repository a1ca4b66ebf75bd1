"""Write the bad-input corpus (committed; re-run to regenerate): hostile or malformed extracts.

    .venv/bin/python tests/bad_inputs/make_corpus.py

Every file is synthetic. Expected outcomes live in tests/test_ingest_bad_inputs.py.
"""
from __future__ import annotations

import csv
import io
import json
import random
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "ingest_fixtures"

BRM_HEADER = ["incident_id", "store_no", "occurred", "crime_ref", "police_force", "loss_gbp", "num_offenders",
              "violence", "detained", "tactic_codes", "offender_names", "offender_dobs", "vehicle_reg", "cctv",
              "dems_ref", "narrative", "referral_id", "referred_at", "grading"]
WMP_HEADER = ["Crime Ref", "Date", "Offence", "Lat", "Lon", "Postcode", "Location", "Value", "MO Codes", "Violence",
              "Suspects", "Suspect DOBs", "Vehicles", "Summary", "Referral", "Referred", "Eval", "Assess", "Handling",
              "Conditions"]
PILLBOX_HEADER = ["Report Ref", "Incident Ref", "Store", "Date/Time", "Force", "Crime No.", "Offender Name",
                  "Offender DOB", "Gender", "Description", "Loss", "Modus Operandi", "Violence", "Vehicle Reg",
                  "DEMS Reference", "Details", "Submitted", "Source Eval", "Intel Assessment", "Handling"]


def brm(i: int, **over) -> dict:
    row = {"incident_id": f"BRM-INC-{i:04d}", "store_no": "101", "occurred": f"2025-03-{i % 27 + 1:02d} 14:00",
           "crime_ref": f"13/{40000 + i}/25", "police_force": "West Yorkshire Police", "loss_gbp": "120.50",
           "num_offenders": "2", "violence": "N", "detained": "N", "tactic_codes": "FOIL; DIST",
           "offender_names": "John Smith; Jane Doe", "offender_dobs": "1990-01-02; 1985-05-06",
           "vehicle_reg": "AB12 CDE", "cctv": "Y", "dems_ref": f"DEMS-{i:04d}",
           "narrative": "Two offenders took razors.", "referral_id": f"BRM-T-{i:04d}",
           "referred_at": f"2025-04-{i % 27 + 1:02d} 10:00", "grading": "2B P"}
    row.update(over)
    return row


def wmp(i: int, **over) -> dict:
    row = {"Crime Ref": f"20WM/{50000 + i}/25", "Date": f"{i % 27 + 1:02d}/03/2025 15:00", "Offence": "Shoplifting",
           "Lat": "52.4800", "Lon": "-1.9000", "Postcode": "B1 1AA", "Location": "Brightmart Birmingham",
           "Value": "75.00", "MO Codes": "RUSH,ALCOHOL", "Violence": "N", "Suspects": "Tom Brown",
           "Suspect DOBs": "02/03/1999", "Vehicles": "", "Summary": "Gang rush on spirits.",
           "Referral": f"OPAL-20-T{i:04d}", "Referred": f"{i % 27 + 1:02d}/04/2025 09:00", "Eval": "2",
           "Assess": "B", "Handling": "P", "Conditions": ""}
    row.update(over)
    return row


def write_csv(name: str, header: list[str], rows: list[dict], delimiter: str = ",", encoding: str = "utf-8",
              folder: Path = HERE) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(h, "") for h in header])
    (folder / name).write_bytes(buf.getvalue().encode(encoding))


def good_brm(n: int, start: int = 1) -> list[dict]:
    return [brm(i) for i in range(start, start + n)]


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    # fixtures: a store directory and clean files for the other ingest tests
    stores = [
        ["retailer_code", "retailer_name", "sector", "store_ref", "store_name", "address", "town", "postcode",
         "latitude", "longitude", "police_force"],
        ["BRM", "Brightmart", "convenience", "101", "Brightmart Leeds Briggate", "1 Briggate", "Leeds", "LS1 6HD",
         "53.7975", "-1.5430", "West Yorkshire Police"],
        ["BRM", "Brightmart", "convenience", "102", "Brightmart Bradford", "2 Market St", "Bradford", "BD1 1LD",
         "53.7930", "-1.7520", "West Yorkshire Police"],
        ["BRM", "Brightmart", "convenience", "201", "Brightmart Birmingham", "3 New St", "Birmingham", "B1 1AA",
         "52.4800", "-1.9000", "West Midlands Police"],
        ["PHL", "Pillbox", "pharmacy", "7", "Pillbox Leeds", "4 Boar Lane", "Leeds", "LS1 5DA", "53.7950", "-1.5460",
         "West Yorkshire"],
    ]
    with open(FIXTURES / "store_directory.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(stores)
    clean = good_brm(5)
    # rows 3 and 4 happen at the Birmingham store and were reported to West Midlands Police
    clean[2].update({"store_no": "201", "police_force": "West Midlands Police", "crime_ref": "20WM/40003/25"})
    clean[3].update({"store_no": "201", "police_force": "WMP", "crime_ref": "20WM/40004/25"})
    write_csv("brightmart_clean.csv", BRM_HEADER, clean, folder=FIXTURES)
    # West Midlands Police refers the same two incidents: one with the crime number written differently,
    # one with a different crime number (matched by store, time within 60 minutes and value)
    write_csv("wmp_same_incident.csv", WMP_HEADER, [
        wmp(1, **{"Crime Ref": "20wm 40003 25", "Date": "04/03/2025 14:20", "Value": "120.50",
                  "Suspects": "John Smith,Jane Doe"}),
        wmp(2, **{"Crime Ref": "20WM/99999/25", "Date": "05/03/2025 14:30", "Value": "120.50"}),
        wmp(3, **{"Crime Ref": "20WM/55555/25", "Date": "20/03/2025 09:00"})], delimiter=";", folder=FIXTURES)
    # load-time rules (tests/test_rule_coverage.py): after brightmart_clean.csv, a report citing its first crime
    # number at another store (13/40001/25 is at store 101; this says 102): kept apart, MERGE_SUSPECT; and a
    # re-submission whose _quarantine_id names no quarantine entry of the source: QUARANTINE_ID_FOREIGN
    write_csv("merge_suspect.csv", BRM_HEADER, [brm(1, incident_id="BRM-INC-9001", referral_id="BRM-T-9001",
                                                    store_no="102")], folder=FIXTURES)
    write_csv("quarantine_id_unknown.csv", BRM_HEADER + ["_quarantine_id"],
              [dict(brm(9002), _quarantine_id="999999")], folder=FIXTURES)
    # 1-2 empty and header only
    (HERE / "empty.csv").write_bytes(b"")
    write_csv("header_only.csv", BRM_HEADER, [])
    (HERE / "whitespace_only.csv").write_text("   \n\n  \n")
    # 3 wrong delimiter: header with commas, data rows with semicolons
    buf = ",".join(BRM_HEADER) + "\n" + "\n".join(";".join(brm(i).values()) for i in range(1, 4)) + "\n"
    (HERE / "wrong_delimiter_rows.csv").write_text(buf)
    # 4 whole file semicolon-delimited although the source usually uses commas: detected, accepted
    write_csv("semicolon_instead_of_comma.csv", BRM_HEADER, good_brm(3), delimiter=";")
    # 5 truncated mid-row
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(BRM_HEADER)
    for r in good_brm(3):
        w.writerow(r.values())
    last = ",".join(brm(4).values())
    (HERE / "truncated_mid_row.csv").write_text(text.getvalue() + last[: len(last) // 2])
    # 6 truncated inside a quoted field
    (HERE / "truncated_open_quote.csv").write_text(text.getvalue() + ",".join(list(brm(5).values())[:15])
                                                   + ',"Two offenders took raz')
    # 7 binary junk
    rng = random.Random(3)
    (HERE / "binary_junk.csv").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    # 8-10 encodings
    rows = good_brm(2)
    rows[0]["narrative"] = "Café staff: £45 of crème brûlée taken"
    rows[1]["offender_names"] = "Zoë Brontë; José Núñez"
    write_csv("cp1252_encoded.csv", BRM_HEADER, rows, encoding="cp1252")
    write_csv("utf8_bom.csv", BRM_HEADER, rows, encoding="utf-8-sig")
    write_csv("utf16_encoded.csv", BRM_HEADER, rows, encoding="utf-16")
    # 11 duplicated column
    write_csv("duplicated_column.csv", BRM_HEADER + ["crime_ref"], good_brm(2))
    # 12 missing the crime number column: every row quarantined, nothing lost
    write_csv("missing_crime_column.csv", [h for h in BRM_HEADER if h != "crime_ref"], good_brm(3))
    # 13 extra columns
    rows = good_brm(2)
    for r in rows:
        r["internal_notes"] = "not for Opal"
    write_csv("extra_columns.csv", BRM_HEADER + ["internal_notes"], rows)
    # 14 formulas
    rows = good_brm(3)
    rows[0]["narrative"] = '=HYPERLINK("http://evil.example/x","click")'
    rows[1]["offender_names"] = "+SUM(A1:A9); Jane Doe"
    rows[2]["dems_ref"] = "@cmd('calc')"
    write_csv("formula_cells.csv", BRM_HEADER, rows)
    # 15 script in narrative
    rows = good_brm(2)
    rows[0]["narrative"] = "<script>alert('x')</script> took goods"
    rows[1]["narrative"] = '<img src=x onerror="steal()">'
    write_csv("script_in_narrative.csv", BRM_HEADER, rows)
    # 16 SQL fragments
    rows = good_brm(2)
    rows[0]["narrative"] = "'); DROP TABLE incidents; --"
    rows[1]["offender_names"] = "Robert'); DELETE FROM referrals WHERE ('1'='1; Jane Doe"
    rows[1]["crime_ref"] = "13/1' OR '1'='1/25"
    write_csv("sql_fragments.csv", BRM_HEADER, rows)
    # 17 31 February
    rows = good_brm(3)
    rows[1]["occurred"] = "2025-02-31 10:00"
    write_csv("feb_31st.csv", BRM_HEADER, rows)
    # 18 future dates
    rows = good_brm(3)
    rows[0]["occurred"] = "2099-01-01 10:00"
    rows[0]["referred_at"] = "2099-01-02 10:00"
    write_csv("future_dates.csv", BRM_HEADER, rows)
    # 19 incident after referral
    rows = good_brm(2)
    rows[0]["occurred"] = "2025-05-20 10:00"
    rows[0]["referred_at"] = "2025-05-01 10:00"
    write_csv("incident_after_referral.csv", BRM_HEADER, rows)
    # 20 swapped lat/lon (force file)
    write_csv("swapped_lat_lon.csv", WMP_HEADER, [wmp(1, Lat="-1.9000", Lon="52.4800"), wmp(2)], delimiter=";")
    # 21 out of range coordinates, with and without a resolvable postcode
    write_csv("out_of_range_coords.csv", WMP_HEADER, [
        wmp(1, Lat="95.0", Lon="200.0", Postcode="", Location="Unknown shop"),
        wmp(2, Lat="40.7128", Lon="-74.0060"),
        wmp(3)], delimiter=";")
    # 22 negative values
    rows = good_brm(3)
    rows[0]["loss_gbp"] = "-50.00"
    rows[1]["num_offenders"] = "-2"
    write_csv("negative_values.csv", BRM_HEADER, rows)
    # 23 unknown force
    rows = good_brm(2)
    rows[0]["police_force"] = "Gotham City PD"
    write_csv("unknown_force.csv", BRM_HEADER, rows)
    # 24 very long field
    rows = good_brm(2)
    rows[0]["narrative"] = "Very long narrative. " * 10_000
    write_csv("very_long_field.csv", BRM_HEADER, rows)
    # 25 non-Latin names
    rows = good_brm(3)
    rows[0]["offender_names"] = "Иван Петров; Мария Иванова"
    rows[1]["offender_names"] = "محمد علي"
    rows[1]["offender_dobs"] = "1992-02-03"
    rows[2]["offender_names"] = "王伟; 李娜"
    write_csv("non_latin_names.csv", BRM_HEADER, rows)
    # 26 invalid grading
    rows = good_brm(3)
    rows[0]["grading"] = "9Z Q"
    rows[1]["grading"] = "B2 1"  # legacy 5x5x5: kept with a warning
    write_csv("bad_grading.csv", BRM_HEADER, rows)
    # 27 unknown tactic code and free text
    rows = good_brm(2)
    rows[0]["tactic_codes"] = "XYZ; FOIL; climbed through roof"
    write_csv("unknown_tactic.csv", BRM_HEADER, rows)
    # 28 unrecognised VRMs
    rows = good_brm(3)
    rows[0]["vehicle_reg"] = "!!!"
    rows[1]["vehicle_reg"] = "AB1"
    rows[2]["vehicle_reg"] = "QQQQQQQQQQQQ"
    write_csv("bad_vrm.csv", BRM_HEADER, rows)
    # 29 malformed postcode (force file)
    write_csv("malformed_postcode.csv", WMP_HEADER, [wmp(1, Postcode="B11AAX"), wmp(2, Postcode="NOT A POSTCODE")],
              delimiter=";")
    # 30 value not a number
    rows = good_brm(2)
    rows[0]["loss_gbp"] = "about twelve quid"
    write_csv("value_not_number.csv", BRM_HEADER, rows)
    # 31 missing crime number on one offender row: the whole referral is held back
    pill = []
    for n, name in enumerate(["Amy Lee", "Ben Ode", "Cal Ray"]):
        pill.append({"Report Ref": "PHL-T-1", "Incident Ref": "PHL-INC-1", "Store": "7", "Date/Time": "01/03/2025 10:00",
                     "Force": "WYP", "Crime No.": "" if n == 1 else "13/77777/25", "Offender Name": name,
                     "Offender DOB": "01/02/1990", "Gender": "F", "Description": "slim", "Loss": "30",
                     "Modus Operandi": "foil lined bag, perfume", "Violence": "N", "Vehicle Reg": "",
                     "DEMS Reference": "", "Details": "Three took perfume", "Submitted": "05/03/2025 10:00",
                     "Source Eval": "2", "Intel Assessment": "B", "Handling": "P"})
    pill.append(dict(pill[0], **{"Report Ref": "PHL-T-2", "Incident Ref": "PHL-INC-2", "Crime No.": "13/77778/25"}))
    write_csv("offender_rows_partly_bad.csv", PILLBOX_HEADER, pill, delimiter=";", encoding="utf-8-sig")
    # 32 blank lines and quoted newlines
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(BRM_HEADER)
    rows = good_brm(3)
    rows[1]["narrative"] = "Line one\nLine two, with a comma\nLine three"
    for r in rows:
        w.writerow(r.values())
        text.write("\n")
    (HERE / "blank_lines_quoted_newlines.csv").write_text(text.getvalue())
    # 33 unknown header
    (HERE / "unknown_header.csv").write_text("foo,bar,baz\n1,2,3\n")
    # 34 JSON Lines truncated and with a non-object line
    glow = [{"ref": f"GLW-T-{i}", "submitted": "2025-04-01T10:00:00", "storeCode": "101", "when": "2025-03-01T10:00:00",
             "policeForce": "West Yorkshire Police", "crimeNumber": f"13/6000{i}/25", "lossValue": 10.5,
             "tactics": ["FOIL", "COSMET"], "violence": "false", "offenders": [{"name": "Ann Bee", "dob": "1999-01-01"}],
             "vehicle": "", "cctv": "true", "notes": "took perfume", "grading": "1A P"} for i in range(1, 4)]
    lines = [json.dumps(g) for g in glow]
    (HERE / "truncated.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    (HERE / "jsonl_with_non_objects.jsonl").write_text("\n".join([lines[0], "42", '"just a string"', lines[1]]) + "\n")
    # 35 JSON array truncated (national force form)
    form = [{"referralReference": f"OPAL-13-T{i}", "receivedAt": "2025-04-02T10:00:00", "referrer": "WYP",
             "force": "13", "crimeNumber": f"13/7000{i}/25", "occurredAt": "2025-03-02T11:00:00",
             "offenceType": "Shoplifting", "location": {"storeName": "Brightmart Leeds Briggate", "address": "1 Briggate",
                                                       "postcode": "LS1 6HD", "latitude": 53.7975, "longitude": -1.543},
             "valueGbp": 99.0, "tactics": ["SWEEP"], "violence": "false", "offenders": [], "vehicles": [],
             "evidence": [{"kind": "CCTV", "reference": None}], "narrative": "Shelf sweep",
             "grading": {"sourceEvaluation": "1", "intelligenceAssessment": "B", "handlingCode": "P", "conditions": None}}
            for i in range(1, 4)]
    text = json.dumps(form, indent=1)
    (HERE / "truncated_array.json").write_text(text[: int(len(text) * 0.8)])
    # 36 not really an XLSX, and a corrupt one
    (HERE / "not_really.xlsx").write_text("incident_id,store_no\n1,2\n")
    (HERE / "corrupt.xlsx").write_bytes(b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(2000)))
    # 37 XLSX with formula cells (written as formulas, never evaluated)
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    header = ["Case Ref", "Store Number", "Incident Date/Time", "Crime Reference", "Force", "Person Name",
              "Date of Birth", "Sex", "Role", "Items Value", "Tactic Codes", "Violence Used", "Vehicle Reg",
              "Evidence", "Narrative", "Referred On", "3x5x2"]
    ws.append(header)
    import datetime as dt
    ws.append(["FTH-T-1", "101", dt.datetime(2025, 3, 1, 10, 0), "13/88881/25", "West Yorkshire Police", "Kim Poe",
               "01/02/1990", "F", "offender", 50, "FOIL", "No", "", "", '=HYPERLINK("http://x.example","y")',
               dt.datetime(2025, 3, 5, 10, 0), "2B P"])
    ws.append(["FTH-T-2", "101", dt.datetime(2025, 3, 2, 10, 0), "13/88882/25", "West Yorkshire Police", "=1+1",
               "01/02/1991", "M", "offender", -5, "FOIL", "No", "", "", "normal", dt.datetime(2025, 3, 6, 10, 0),
               "2B P"])
    wb.properties.created = wb.properties.modified = dt.datetime(2025, 1, 1)
    wb.save(HERE / "formula_cells.xlsx")
    deterministic_zip(HERE / "formula_cells.xlsx")
    # 38 police.uk street file with a bad month and coordinates outside GB
    street = [["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code",
               "LSOA name", "Crime type", "Last outcome category", "Context"],
              ["abc1", "2018-07", "West Yorkshire Police", "West Yorkshire Police", "-1.55", "53.80",
               "On or near Briggate", "E01011365", "Leeds 111B", "Shoplifting", "Under investigation", ""],
              ["", "2018-07", "West Yorkshire Police", "West Yorkshire Police", "-1.56", "53.81",
               "On or near Park Row", "E01011366", "Leeds 111C", "Anti-social behaviour", "", ""],
              ["abc3", "2018-13", "West Yorkshire Police", "West Yorkshire Police", "-1.55", "53.80",
               "On or near Briggate", "E01011365", "Leeds 111B", "Shoplifting", "", ""],
              ["abc4", "2018-07", "West Yorkshire Police", "West Yorkshire Police", "151.2", "-33.9",
               "Sydney", "", "", "Shoplifting", "", ""]]
    with open(HERE / "police_uk_2018-07-west-yorkshire-street.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(street)
    # 39 a Parquet extract (supported format) with a negative value
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = good_brm(2)
    rows[1]["loss_gbp"] = "-1"
    pq.write_table(pa.table({h: [r[h] for r in rows] for h in BRM_HEADER}), HERE / "brightmart_extract.parquet")
    # 40 a row with too many fields
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(BRM_HEADER)
    for r in good_brm(2):
        w.writerow(r.values())
    w.writerow(list(brm(3).values()) + ["surplus", "cells"])
    (HERE / "too_many_fields.csv").write_text(text.getvalue())
    rule_fixtures()


FIXED_TIME = (2025, 1, 1, 0, 0, 0)


def deterministic_zip(path: Path) -> None:
    """Rewrite a zip (an XLSX) with fixed entry times, so that re-running this script gives the same bytes."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":  # openpyxl stamps the save time as modified
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", data)
            zout.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), data, compress_type=zipfile.ZIP_DEFLATED)


def rule_fixtures() -> None:
    """rule_*.csv: one good row, then rows that each fire one rule never fired by the files above (and
    boundary cases: the limit itself passes, one step past it does not). Expected outcomes, exact, are in
    tests/test_ingest_bad_inputs.py; tests/test_rule_coverage.py checks every rule fires somewhere."""
    store_header = ["retailer_code", "retailer_name", "sector", "store_ref", "store_name", "address", "town",
                    "postcode", "latitude", "longitude", "police_force"]
    base_store = ["BRM", "Brightmart", "convenience", "301", "Brightmart York", "5 Stonegate", "York", "YO1 8AS",
                  "53.9610", "-1.0830", "North Yorkshire Police"]
    stores = [base_store, ["BRM", "Brightmart", "convenience", "", "Brightmart Nowhere", "", "", "", "", "", ""],
              ["", "Brightmart", "convenience", "302", "Brightmart Selby", "", "Selby", "YO8 4AA", "53.78", "-1.07",
               "North Yorkshire Police"],
              ["BRM", "Brightmart", "convenience", "303", "Brightmart Whitby", "", "Whitby", "YO21 1AA", "north",
               "-0.61", "North Yorkshire Police"]]
    with open(HERE / "rule_store_key_missing.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([store_header] + stores)
    cases = {
        # errors never fired above
        "rule_date_missing.csv": [brm(2, occurred="")],
        "rule_force_missing.csv": [brm(2, police_force="", store_no="999")],   # no force, no known store
        # warnings never fired above
        "rule_force_from_store.csv": [brm(2, police_force="")],                 # store 101 is West Yorkshire's
        "rule_store_unknown.csv": [brm(2, store_no="999")],
        "rule_referral_ref_missing.csv": [brm(2, referral_id="")],
        "rule_received_missing.csv": [brm(2, referred_at="")],
        "rule_dob_unparseable.csv": [brm(2, offender_dobs="1990-13-45; 1985-05-06")],
        "rule_dob_implausible.csv": [brm(2, offender_dobs="2090-01-01; 1901-01-01")],
        "rule_bool_unrecognised.csv": [brm(2, violence="maybe", detained="Y")],
        "rule_count_mismatch.csv": [brm(2, num_offenders="1", offender_names="John Smith; Jane Doe; Al Ray")],
        # boundaries: zero is a value (accepted), one penny or one person below it is not
        "rule_value_boundaries.csv": [brm(2, loss_gbp="0", num_offenders="0", offender_names="", offender_dobs=""),
                                      brm(3, loss_gbp="0.00"), brm(4, loss_gbp="-0.01"),
                                      brm(5, num_offenders="-1")],
        # an incident at the minute of its referral is fine; one minute later is after it
        "rule_incident_referral_edge.csv": [brm(2, occurred="2025-04-03 10:00", referred_at="2025-04-03 10:00"),
                                            brm(3, occurred="2025-04-04 10:01", referred_at="2025-04-04 10:00")],
        # ingest.max_field_chars (5000): exactly the limit is kept quietly, one more character is flagged
        # (with a ':' so the cheap prefilter lets the row through to the per-field test at the limit itself)
        "rule_field_length_edge.csv": [brm(2, narrative="Note: " + "x" * 4994), brm(3, narrative="Note: " + "y" * 4995)],
    }
    for name, extra in cases.items():
        write_csv(name, BRM_HEADER, [brm(1)] + extra)
    # force-file rules: coordinates that are not numbers; handling code C without its conditions; the edge of
    # the GB box (the south-west corner 49.8, -8.7 is inside; beyond it, with no postcode, is outside)
    write_csv("rule_coords_unparseable.csv", WMP_HEADER, [wmp(1), wmp(2, Lat="fifty-two", Lon="-1.9000")],
              delimiter=";")
    write_csv("rule_grading_conditions_missing.csv", WMP_HEADER,
              [wmp(1, Handling="C", Conditions="do not disclose to the retailer"), wmp(2, Handling="C")],
              delimiter=";")
    write_csv("rule_gb_box_edge.csv", WMP_HEADER, [
        wmp(1, Lat="49.8", Lon="-8.7", Postcode="", Location="Scilly shop"),
        wmp(2, Lat="49.79", Lon="-8.7", Postcode="", Location="Off Scilly")], delimiter=";")


if __name__ == "__main__":
    main()
