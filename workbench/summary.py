"""A plain summary of what the store holds, printed at the end of `make demo` and by `workbench summary`."""
from __future__ import annotations

import json
from pathlib import Path

from workbench.store import Store


def world_summary(world_dir: Path) -> dict | None:
    """Headline facts from a sample world's manifest (never its ground truth)."""
    try:
        manifest = json.loads((Path(world_dir) / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return {k: manifest.get(k) for k in ("seed", "scale", "incidents", "stores", "retailers", "groups",
                                         "forces_with_stores", "period", "to_find")} | {"dir": str(world_dir)}


def linkage_summary(store: Store) -> dict | None:
    """Persons, vehicles, cloned plates and groups found by the latest linkage runs (None before any run)."""
    has = store.query("linkage/summary_tables").iloc[0]
    if not has["has_runs_table"] or not int(store.query("linkage/summary_runs").iloc[0]["runs"]):
        return None
    found = store.query("linkage/summary_entities").iloc[0].to_dict()
    out = {k: (None if found[k] is None or found[k] != found[k] else int(found[k]))
           for k in ("persons", "vehicles", "cloned_plates")}
    if has["has_groups_table"]:
        groups = store.query("linkage/summary_groups").iloc[0]
        out |= {"groups": int(groups["groups"]), "group_members": int(groups["members"])}
    return out


def store_summary(store: Store) -> dict:
    """What the store holds, after reading every row (a damaged store raises DamagedStoreError)."""
    store.check_readable()
    coverage = store.query("store_coverage").iloc[0].to_dict()
    by_force = store.query("incidents_by_force")
    tables = dict(store.table_counts().itertuples(index=False, name=None))
    return {
        "db": str(store.path),
        "schema_version": store.schema_version(),
        "tables": tables,
        "linkage": linkage_summary(store),
        "coverage": coverage,
        "territorial_forces_with_incidents": int((by_force["incidents"] > 0).sum()),
        "top_forces": by_force.head(5).to_dict(orient="records"),
        "outputs": product_files(Path(store.path).parent),
    }


def product_files(out_dir: Path) -> list[str]:
    """Rendered products (maps, plans, packages) written beside the database."""
    found = []
    for pattern in ("*/*.html", "*/*.png", "*/*.pdf", "*/*/*.html", "*/*/*.pdf"):
        found += [str(p) for p in out_dir.glob(pattern) if "sample_world" not in p.parts and "bench" not in p.parts]
    return sorted(set(found))


def print_summary(result: dict, console) -> None:
    from rich.table import Table

    console.print(f"Store {result['db']} (schema version {result['schema_version']})")
    table = Table(title="rows per table")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in result["tables"].items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    cov = result["coverage"]
    console.print(
        f"Territorial forces with incidents: {result['territorial_forces_with_incidents']} of 43; "
        f"retailers {cov['retailers']}, stores {cov['stores']:,}; "
        f"incidents {cov['first_incident']} to {cov['last_incident']}; "
        f"current referrals {cov['referrals_current']:,} "
        f"({cov['referrals_from_retailers']:,} from retailers, {cov['referrals_from_forces']:,} from forces)"
    )
    world = result.get("world")
    if world:
        console.print(
            f"Sample world {world['dir']} (seed {world['seed']}, scale {world['scale']}): {world['incidents']:,} "
            f"incidents at {world['stores']:,} stores of {world['retailers']} fictional chains in "
            f"{world['forces_with_stores']} forces; {world['groups']} organised groups to find."
        )
    linkage = result.get("linkage")
    to_find = (world or {}).get("to_find") or {}
    if linkage:
        def beside(key, label):
            truth = f" (the world: {to_find[key]:,})" if key in to_find else ""
            return f"{label} {linkage[key]:,}{truth}" if linkage.get(key) is not None else None
        parts = [p for p in (beside("persons", "persons"), beside("vehicles", "vehicles"),
                             beside("cloned_plates", "cloned plates flagged"), beside("groups", "groups")) if p]
        console.print("Linkage found: " + "; ".join(parts))
    elif to_find:
        console.print("Linkage has not run yet (`workbench link run`).")
    if result["outputs"]:
        console.print("Outputs: " + ", ".join(result["outputs"]))
