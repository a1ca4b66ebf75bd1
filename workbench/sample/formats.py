"""How each synthetic source writes its referral extract: file type, shape, headers, date style, codes.

Each source is one retailer's or force's own export format, deliberately different from the others
(column names and order, date formats, CSV/XLSX/JSON, coded vs free-text tactics, one row per
incident vs one row per offender), so that the ingest path is exercised the way real data would.

Canonical fields a column may carry (``field`` below):
  referral_ref, received_at, referrer, grading (e.g. "2B P"), source_evaluation,
  intelligence_assessment, handling_code, handling_conditions,
  incident_ref, store_ref, store_name, address, postcode, latitude, longitude, force,
  crime_number, occurred_at, occurred_date, occurred_time, offence_type, value_gbp,
  offenders_count, violence, detained, tactics, narrative,
  offender_names, offender_dobs, offender_genders      (per-incident shape: values joined by `multi_sep`)
  offender_name, offender_dob, offender_gender, offender_description, offender_role (per-offender shape)
  vrm, vehicle_make, vehicle_colour, cctv, dems_ref, still_ref
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceFormat:
    name: str                      # source name, also the ingest mapping name
    source_type: str               # retailer | force
    owner: str                     # retailer code or force code(s) the source covers
    file_stem: str
    file_type: str                 # csv | xlsx | jsonl | json
    shape: str                     # incident | offender | nested
    columns: tuple[tuple[str, str], ...]   # (header, canonical field) in file order
    delimiter: str = ","
    encoding: str = "utf-8"
    line_terminator: str = "\n"
    datetime_format: str = "%Y-%m-%d %H:%M"
    date_format: str = "%Y-%m-%d"           # dates of birth and date-only columns
    time_format: str = "%H:%M"
    bool_values: tuple[str, str] = ("Y", "N")
    tactics_mode: str = "codes"            # codes | text
    multi_sep: str = "; "
    notes: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.file_stem}.{self.file_type}"


def _f(**kw) -> SourceFormat:
    kw["columns"] = tuple(tuple(c) for c in kw["columns"])
    return SourceFormat(**kw)


SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    _f(name="retailer_brightmart", source_type="retailer", owner="BRM", file_stem="brightmart_incidents",
       file_type="csv", shape="incident", tactics_mode="codes",
       columns=[("incident_id", "incident_ref"), ("store_no", "store_ref"), ("occurred", "occurred_at"),
                ("crime_ref", "crime_number"), ("police_force", "force"), ("loss_gbp", "value_gbp"),
                ("num_offenders", "offenders_count"), ("violence", "violence"), ("detained", "detained"),
                ("tactic_codes", "tactics"), ("offender_names", "offender_names"),
                ("offender_dobs", "offender_dobs"), ("vehicle_reg", "vrm"), ("cctv", "cctv"),
                ("dems_ref", "dems_ref"), ("narrative", "narrative"), ("referral_id", "referral_ref"),
                ("referred_at", "received_at"), ("grading", "grading")],
       notes="ISO-like dates, coded tactics separated by ';', one row per incident"),
    _f(name="retailer_harvest", source_type="retailer", owner="HGR", file_stem="harvest_grocers_referrals",
       file_type="xlsx", shape="incident", tactics_mode="text", datetime_format="%d/%m/%Y %H:%M",
       date_format="%d/%m/%Y", multi_sep=" / ",
       columns=[("Referral No", "referral_ref"), ("Date Referred", "received_at"), ("Branch", "store_ref"),
                ("Branch Name", "store_name"), ("Incident Date", "occurred_date"), ("Incident Time", "occurred_time"),
                ("Police Force", "force"), ("Crime Number", "crime_number"), ("Value Stolen (£)", "value_gbp"),
                ("Offenders", "offenders_count"), ("Method / Goods", "tactics"), ("Staff Assaulted?", "violence"),
                ("Detained?", "detained"), ("Suspect Names", "offender_names"), ("Suspect DOBs", "offender_dobs"),
                ("Vehicle", "vrm"), ("Vehicle Make", "vehicle_make"), ("CCTV Held", "cctv"),
                ("Summary", "narrative"), ("Intel Grading", "grading")],
       bool_values=("Yes", "No"), notes="XLSX with separate date and time cells, free-text tactics"),
    _f(name="retailer_pillbox", source_type="retailer", owner="PHL", file_stem="pillbox_offender_report",
       file_type="csv", shape="offender", delimiter=";", encoding="utf-8-sig", line_terminator="\r\n",
       datetime_format="%d/%m/%Y %H:%M", date_format="%d/%m/%Y", tactics_mode="text",
       columns=[("Report Ref", "referral_ref"), ("Incident Ref", "incident_ref"), ("Store", "store_ref"),
                ("Date/Time", "occurred_at"), ("Force", "force"), ("Crime No.", "crime_number"),
                ("Offender Name", "offender_name"), ("Offender DOB", "offender_dob"),
                ("Gender", "offender_gender"), ("Description", "offender_description"),
                ("Loss", "value_gbp"), ("Modus Operandi", "tactics"), ("Violence", "violence"),
                ("Vehicle Reg", "vrm"), ("DEMS Reference", "dems_ref"), ("Details", "narrative"),
                ("Submitted", "received_at"), ("Source Eval", "source_evaluation"),
                ("Intel Assessment", "intelligence_assessment"), ("Handling", "handling_code")],
       notes="semicolon CSV with BOM and CRLF, UK dates, one row per offender"),
    _f(name="retailer_glow", source_type="retailer", owner="GLW", file_stem="glow_co_incidents",
       file_type="jsonl", shape="nested", datetime_format="%Y-%m-%dT%H:%M:%S", tactics_mode="codes",
       columns=[("ref", "referral_ref"), ("submitted", "received_at"), ("storeCode", "store_ref"),
                ("when", "occurred_at"), ("policeForce", "force"), ("crimeNumber", "crime_number"),
                ("lossValue", "value_gbp"), ("tactics", "tactics"), ("violence", "violence"),
                ("offenders", "offenders"), ("vehicle", "vrm"), ("cctv", "cctv"), ("notes", "narrative"),
                ("grading", "grading")],
       bool_values=("true", "false"), notes="JSON Lines with nested offender objects"),
    _f(name="retailer_valueden", source_type="retailer", owner="VLU", file_stem="valueden_export",
       file_type="csv", shape="incident", encoding="cp1252", datetime_format="%d-%b-%Y %H:%M",
       date_format="%d-%b-%Y", tactics_mode="text", multi_sep=", ",
       columns=[("Shop", "store_ref"), ("Shop Name", "store_name"), ("Date", "occurred_at"),
                ("Value", "value_gbp"), ("What Happened", "narrative"), ("How", "tactics"),
                ("No. Offenders", "offenders_count"), ("Names", "offender_names"),
                ("Police", "force"), ("Police Ref", "crime_number"), ("Reg", "vrm"), ("Colour", "vehicle_colour"),
                ("Violence Y/N", "violence"), ("Case", "referral_ref"), ("Sent", "received_at")],
       notes="cp1252 CSV, dd-Mon-yyyy dates, free text, no DOBs"),
    _f(name="retailer_cornerway", source_type="retailer", owner="CRN", file_stem="cornerway_local_referrals",
       file_type="csv", shape="incident", delimiter="|", datetime_format="%Y%m%d %H%M", date_format="%Y%m%d",
       tactics_mode="codes", multi_sep="+", bool_values=("1", "0"),
       columns=[("REF", "referral_ref"), ("SITE", "store_ref"), ("EVENT_DT", "occurred_at"),
                ("FORCE_CODE", "force"), ("CRIME_NO", "crime_number"), ("LOSS", "value_gbp"),
                ("MO_CODES", "tactics"), ("VIOL", "violence"), ("HELD", "detained"), ("OFFS", "offenders_count"),
                ("OFF_NAMES", "offender_names"), ("OFF_DOBS", "offender_dobs"), ("VRM", "vrm"),
                ("EVID", "dems_ref"), ("TXT", "narrative"), ("REC_DT", "received_at"), ("GRADE", "grading")],
       notes="pipe-delimited, compact yyyymmdd dates, 1/0 flags"),
    _f(name="retailer_fithaus", source_type="retailer", owner="FTH", file_stem="fithaus_sports_offenders",
       file_type="xlsx", shape="offender", datetime_format="%d/%m/%Y %H:%M", date_format="%d/%m/%Y",
       tactics_mode="codes",
       columns=[("Case Ref", "referral_ref"), ("Store Number", "store_ref"), ("Incident Date/Time", "occurred_at"),
                ("Crime Reference", "crime_number"), ("Force", "force"), ("Person Name", "offender_name"),
                ("Date of Birth", "offender_dob"), ("Sex", "offender_gender"), ("Role", "offender_role"),
                ("Items Value", "value_gbp"), ("Tactic Codes", "tactics"), ("Violence Used", "violence"),
                ("Vehicle Reg", "vrm"), ("Evidence", "dems_ref"), ("Narrative", "narrative"),
                ("Referred On", "received_at"), ("3x5x2", "grading")],
       bool_values=("Yes", "No"), notes="XLSX, one row per offender"),
    _f(name="retailer_tekno", source_type="retailer", owner="TKN", file_stem="tekno_depot_feed",
       file_type="jsonl", shape="nested", datetime_format="%Y-%m-%dT%H:%M:%SZ", tactics_mode="text",
       columns=[("referral", "referral_ref"), ("received", "received_at"), ("store", "store_ref"),
                ("occurred", "occurred_at"), ("force", "force"), ("crime_reference", "crime_number"),
                ("value", "value_gbp"), ("mo", "tactics"), ("violence", "violence"), ("detained", "detained"),
                ("people", "offenders"), ("vehicle_registration", "vrm"), ("dems", "dems_ref"),
                ("description", "narrative"), ("evaluation", "source_evaluation"),
                ("assessment", "intelligence_assessment"), ("handling", "handling_code")],
       bool_values=("true", "false"), notes="JSON Lines, UTC timestamps, free-text MO"),
    _f(name="retailer_buildright", source_type="retailer", owner="BLD", file_stem="buildright_diy_incidents",
       file_type="csv", shape="incident", datetime_format="%d/%m/%Y %H:%M", date_format="%d/%m/%Y",
       tactics_mode="codes", multi_sep="/",
       columns=[("Date", "occurred_at"), ("Store ID", "store_ref"), ("Store", "store_name"),
                ("Crime Ref", "crime_number"), ("Constabulary", "force"), ("£ Loss", "value_gbp"),
                ("Codes", "tactics"), ("Number of Suspects", "offenders_count"), ("Suspects", "offender_names"),
                ("DOBs", "offender_dobs"), ("Veh", "vrm"), ("Make", "vehicle_make"), ("Assault", "violence"),
                ("Notes", "narrative"), ("Referral", "referral_ref"), ("Referral Date", "received_at"),
                ("Grade", "grading")],
       bool_values=("TRUE", "FALSE"), notes="UK dates, codes separated by '/'"),
    _f(name="retailer_cellar", source_type="retailer", owner="CLR", file_stem="cellar_and_vine_log",
       file_type="csv", shape="offender", datetime_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d",
       tactics_mode="text",
       columns=[("log_no", "incident_ref"), ("referral_no", "referral_ref"), ("branch_code", "store_ref"),
                ("event_time", "occurred_at"), ("force_name", "force"), ("crn", "crime_number"),
                ("name", "offender_name"), ("dob", "offender_dob"), ("sex", "offender_gender"),
                ("role", "offender_role"), ("loss", "value_gbp"), ("mo_text", "tactics"),
                ("threats_or_violence", "violence"), ("plate", "vrm"), ("footage", "cctv"),
                ("summary", "narrative"), ("referred", "received_at"), ("grading", "grading")],
       bool_values=("yes", "no"), notes="one row per offender, free-text MO"),
    _f(name="retailer_threadline", source_type="retailer", owner="THD", file_stem="threadline_referrals",
       file_type="csv", shape="incident", datetime_format="%m/%d/%Y %H:%M", date_format="%m/%d/%Y",
       tactics_mode="codes",
       columns=[("ReferralID", "referral_ref"), ("StoreID", "store_ref"), ("IncidentDateTime", "occurred_at"),
                ("CrimeRef", "crime_number"), ("Force", "force"), ("Value", "value_gbp"),
                ("TacticCodes", "tactics"), ("OffenderCount", "offenders_count"), ("OffenderNames", "offender_names"),
                ("OffenderDOBs", "offender_dobs"), ("Violence", "violence"), ("VRM", "vrm"),
                ("CCTV", "cctv"), ("Narrative", "narrative"), ("ReferredDateTime", "received_at"),
                ("SourceEval", "source_evaluation"), ("IntelAssessment", "intelligence_assessment"),
                ("HandlingCode", "handling_code")],
       bool_values=("True", "False"), notes="US-style month-first dates (head office system)"),
    _f(name="retailer_nestling", source_type="retailer", owner="NST", file_stem="nestling_baby_incidents",
       file_type="csv", shape="incident", datetime_format="%d.%m.%Y %H:%M", date_format="%d.%m.%Y",
       tactics_mode="text", delimiter="\t",
       columns=[("Incident", "incident_ref"), ("Store", "store_ref"), ("Occurred", "occurred_at"),
                ("Force", "force"), ("Crime Number", "crime_number"), ("Loss GBP", "value_gbp"),
                ("Method", "tactics"), ("Offenders", "offenders_count"), ("Names", "offender_names"),
                ("Violence", "violence"), ("Vehicle", "vrm"), ("Notes", "narrative"),
                ("Referral", "referral_ref"), ("Referred", "received_at")],
       notes="tab-separated, dotted dates"),
    _f(name="force_opal_form", source_type="force", owner="*", file_stem="force_referral_forms",
       file_type="json", shape="nested", datetime_format="%Y-%m-%dT%H:%M:%S", tactics_mode="codes",
       columns=[("referralReference", "referral_ref"), ("receivedAt", "received_at"), ("referrer", "referrer"),
                ("force", "force"), ("crimeNumber", "crime_number"), ("occurredAt", "occurred_at"),
                ("offenceType", "offence_type"), ("location", "location"), ("valueGbp", "value_gbp"),
                ("tactics", "tactics"), ("violence", "violence"), ("offenders", "offenders"),
                ("vehicles", "vehicles"), ("evidence", "evidence"), ("narrative", "narrative"),
                ("grading", "grading_object")],
       bool_values=("true", "false"),
       notes="Opal's national force referral form, a JSON array of nested objects (all forces but 01 and 20)"),
    _f(name="force_met", source_type="force", owner="01", file_stem="met_police_referrals",
       file_type="xlsx", shape="offender", datetime_format="%d/%m/%Y %H:%M", date_format="%d/%m/%Y",
       tactics_mode="text",
       columns=[("CRIS", "crime_number"), ("Offence Date", "occurred_at"), ("Offence", "offence_type"),
                ("Venue", "store_name"), ("Address", "address"), ("Postcode", "postcode"),
                ("Suspect", "offender_name"), ("Suspect DOB", "offender_dob"), ("Suspect Sex", "offender_gender"),
                ("Property Value", "value_gbp"), ("MO", "tactics"), ("Violence", "violence"),
                ("VRM", "vrm"), ("Exhibits", "dems_ref"), ("Synopsis", "narrative"),
                ("Opal Ref", "referral_ref"), ("Date Referred", "received_at"), ("Grading", "grading")],
       bool_values=("Y", "N"), notes="Metropolitan Police export, one row per suspect, location by address"),
    _f(name="force_wmp", source_type="force", owner="20", file_stem="west_midlands_referrals",
       file_type="csv", shape="incident", delimiter=";", datetime_format="%d/%m/%Y %H:%M",
       date_format="%d/%m/%Y", tactics_mode="codes", multi_sep=",",
       columns=[("Crime Ref", "crime_number"), ("Date", "occurred_at"), ("Offence", "offence_type"),
                ("Lat", "latitude"), ("Lon", "longitude"), ("Postcode", "postcode"), ("Location", "store_name"),
                ("Value", "value_gbp"), ("MO Codes", "tactics"), ("Violence", "violence"),
                ("Suspects", "offender_names"), ("Suspect DOBs", "offender_dobs"), ("Vehicles", "vrm"),
                ("Summary", "narrative"), ("Referral", "referral_ref"), ("Referred", "received_at"),
                ("Eval", "source_evaluation"), ("Assess", "intelligence_assessment"), ("Handling", "handling_code"),
                ("Conditions", "handling_conditions")],
       notes="West Midlands Police, semicolon CSV, coordinates given"),
)

BY_NAME = {f.name: f for f in SOURCE_FORMATS}
RETAILER_SOURCE = {f.owner: f for f in SOURCE_FORMATS if f.source_type == "retailer"}
FORCE_SOURCE_OVERRIDES = {f.owner: f for f in SOURCE_FORMATS if f.source_type == "force" and f.owner != "*"}
DEFAULT_FORCE_SOURCE = BY_NAME["force_opal_form"]
