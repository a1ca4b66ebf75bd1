"""TrainingDemo: the guided demonstration of the training case (docs/training.md), step by step, with Next/Back, a
step list, the trainer's notes (hideable), a large-text presenter view and Reset. Every step shows the real product
computed live from the training store through the library: workbench.ingest (ingest_file, triage), workbench.linkage
(review queue, decide, groups), workbench.crossborder (analyse, candidates) and workbench.packages (build).

    from widgets.training_demo import TrainingDemo
    demo = TrainingDemo("out/training", "out/training/session")   # a folder built by `workbench training build`
    demo.panel                                                    # display in Voila or JupyterLab
    demo.next(); demo.back(); demo.decide(); demo.reset()

The store is opened only while a step computes, so Reset can restore the pristine copy between sessions.
"""
from __future__ import annotations

from pathlib import Path

import ipywidgets as w
import pandas as pd

from workbench import config, training
from workbench.errors import WorkbenchError
from workbench.render import fragment

STEP_TEMPLATE = "training_step.html.j2"
NOTES_TEMPLATE = "training_notes.html.j2"

STEPS = [
    ("Referrals arrive", ["New referrals arrive as an extract and are ingested. Point out the one held in "
                          "quarantine and its reason: a crime number is a key requirement for Opal.",
                          "Ask: what should the retailer send again, and with what?"]),
    ("Triage queue", ["Current referrals in priority order: violence against staff, juveniles, prolific offenders, "
                      "offenders seen in several forces.", "Ask which referral they would read first, and why."]),
    ("People and vehicles resolved", ["Mentions of people and vehicles across referrals are resolved into subjects "
                                      "and vehicles. The pair shown is the least certain: the analyst decides.",
                                      "Press 'Analyst: same person' to record the decision (it is audited)."]),
    ("The group's network", ["Subjects who offend together form a group; key players and brokers are marked.",
                             "Every name here is a pseudonym: this is training data."]),
    ("Its route across forces", ["The group's incidents chained into same-day runs feasible by road, and the "
                                 "forces it touches; the lead force is recommended from these figures."]),
    ("MO candidates in another force", ["Incidents elsewhere with the same way of working but no shared name: "
                                        "a lead to share with that force, not a link."]),
    ("The package", ["The intelligence package for the lead force, built from the store with its purpose "
                     "audited; every page is marked TRAINING - NOT REAL INTELLIGENCE."]),
]


PAIR_COLUMNS = {"rank": "rank", "full_name_a": "name (a)", "dob_a": "born (a)", "force_code_a": "force (a)",
                "full_name_b": "name (b)", "dob_b": "born (b)", "force_code_b": "force (b)",
                "match_probability": "match probability"}


def _pairs(store, limit: int) -> pd.DataFrame:
    """The least certain person pairs, most uncertain first, on the uncertainty rounded: its last bits differ
    between runs, and a trainer's second session must show (and decide) the same pair."""
    from workbench.linkage import review

    queue = review.review_queue(store, "person", limit=200)
    if queue.empty:
        return queue
    key = -queue["uncertainty"].fillna(-1.0).round(9)
    return (queue.assign(_k=key).sort_values(["_k", "mention_a", "mention_b"], kind="mergesort")
            .drop(columns="_k").head(limit).assign(rank=range(1, min(limit, len(queue)) + 1)))


def _table(caption: str, frame: pd.DataFrame, columns: list[str] | None = None, rows: int = 12) -> dict:
    frame = frame if columns is None else frame[[c for c in columns if c in frame.columns]]
    frame = frame.head(rows).copy()
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):   # centralities, scores: 4 places read (and repeat) better
            frame[column] = frame[column].round(4)
        # dates of birth and the like: a date, not "1987-12-24 00:00:00"
        if pd.api.types.is_datetime64_any_dtype(frame[column]) and (frame[column].dropna().dt.normalize()
                                                                   == frame[column].dropna()).all():
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    values = frame.astype(object).where(frame.notna(), "").astype(str).values.tolist()
    return {"caption": caption, "columns": [str(c) for c in frame.columns], "rows": values}


class TrainingDemo:
    def __init__(self, folder, out_dir):
        self.folder = Path(folder)
        self.out_dir = Path(out_dir)
        with training.open_training(self.folder, read_only=True) as store:
            self.info = training.case_info(store)
        self.step = 0
        self.large = False
        self.results: dict[int, dict] = {}
        self.decisions: list[int] = []
        self.before_decision: int | None = None   # subjects resolved before the analyst's decision
        self.back_button = w.Button(description="Back", icon="")
        self.next_button = w.Button(description="Next", button_style="primary")
        self.reset_button = w.Button(description="Reset case", button_style="warning")
        self.decide_button = w.Button(description="Analyst: same person")
        self.notes_toggle = w.ToggleButton(value=True, description="Trainer's notes")
        self.presenter_toggle = w.ToggleButton(value=False, description="Presenter view")
        self.step_list = w.Select(options=[(f"{i + 1}. {t}", i) for i, (t, _n) in enumerate(STEPS)], value=0,
                                  rows=len(STEPS), description="Steps")
        self.view = w.HTML()
        self.notes = w.HTML()
        self.status = w.HTML()
        self.back_button.on_click(lambda _b: self.back())
        self.next_button.on_click(lambda _b: self.next())
        self.reset_button.on_click(lambda _b: self.reset())
        self.decide_button.on_click(lambda _b: self.decide())
        self.notes_toggle.observe(lambda _c: self._show_notes(), names="value")
        self.presenter_toggle.observe(lambda _c: self.set_presenter(self.presenter_toggle.value), names="value")
        self.step_list.observe(lambda c: self.go(c["new"]), names="value")
        controls = w.HBox([self.back_button, self.next_button, self.decide_button, self.reset_button,
                           self.notes_toggle, self.presenter_toggle])
        self.panel = w.VBox([controls, w.HBox([self.step_list, self.notes]), self.view, self.status])
        self.panel.add_class("wb-training-demo")
        self.show()

    # -- navigation --------------------------------------------------------------------------------------
    def go(self, index: int) -> None:
        index = max(0, min(len(STEPS) - 1, int(index)))
        if index != self.step:
            self.step = index
            self.show()

    def next(self) -> None:
        self.go(self.step + 1)

    def back(self) -> None:
        self.go(self.step - 1)

    def set_presenter(self, on: bool) -> None:
        self.large = bool(on)
        if self.presenter_toggle.value != self.large:
            self.presenter_toggle.value = self.large
        self.show()

    def reset(self) -> None:
        """Restore the case to its starting state and go back to the first step."""
        training.reset(self.folder)
        self.results.clear()
        self.decisions.clear()
        self.before_decision = None
        self.step = -1
        self.go(0)
        self.status.value = str(fragment(NOTES_TEMPLATE, message="The case is back to its starting state."))

    def _show_notes(self) -> None:
        self.notes.value = (str(fragment(NOTES_TEMPLATE, notes=STEPS[self.step][1]))
                            if self.notes_toggle.value else "")
        self.notes.layout.display = None if self.notes_toggle.value else "none"

    def show(self) -> None:
        if self.step_list.value != self.step:
            self.step_list.value = self.step
        self.back_button.disabled = self.step == 0
        self.next_button.disabled = self.step == len(STEPS) - 1
        self.decide_button.layout.display = None if self.step == 2 else "none"
        try:
            content = self.results.get(self.step) or self.compute(self.step)
            self.results[self.step] = content
        except WorkbenchError as exc:
            content = {"lines": [str(exc)], "tables": []}
        self.view.value = str(fragment(STEP_TEMPLATE, banner=config.security_marking(), number=self.step + 1,
                                       total=len(STEPS), title=STEPS[self.step][0], lines=content["lines"],
                                       tables=content["tables"], large=self.large))
        self._show_notes()

    # -- the steps, computed from the training store --------------------------------------------------------
    def compute(self, index: int) -> dict:
        return [self._arrive, self._triage, self._resolve, self._network, self._route, self._mo,
                self._package][index]()

    def _group(self, store) -> str:
        from workbench import crossborder as xb

        groups = xb.several_forces(store)
        if groups.empty:
            raise WorkbenchError("the training store has no group touching two or more forces")
        return str(groups.group_id.iloc[0])

    def _arrive(self) -> dict:
        from workbench.ingest import ingest_file

        extract = training.arriving_extract(self.folder)
        with training.open_training(self.folder) as store:
            done = store.sql("SELECT batch_id FROM ingest_batches WHERE file_name = $f", {"f": extract.name})
            if done.empty:
                ingest_file(store, extract, source="force_opal_form")
            batch = store.sql("SELECT batch_id, file_name, status, rows_read, rows_accepted, rows_quarantined "
                              "FROM ingest_batches WHERE file_name = $f ORDER BY batch_id DESC LIMIT 1",
                              {"f": extract.name})
            quarantine = store.sql("SELECT q.row_number, r.rule, r.message FROM quarantine q, "
                                   "unnest(from_json(q.reasons, '[{\"rule\": \"VARCHAR\", \"message\": \"VARCHAR\"}]'))"
                                   " AS t(r) WHERE q.batch_id = $b ORDER BY q.row_number",
                                   {"b": int(batch.batch_id.iloc[0])})
        b = batch.iloc[0]
        return {"lines": [f"{b.file_name}: {b.rows_read} referrals read, {b.rows_accepted} accepted, "
                          f"{b.rows_quarantined} quarantined."],
                "tables": [_table("Ingest batch", batch), _table("Quarantined, with its reason", quarantine)]}

    def _triage(self) -> dict:
        from workbench.ingest import triage

        with training.open_training(self.folder, read_only=True) as store:
            queue = triage.referral_queue(store, max_rows=12)
        return {"lines": [f"{len(queue)} referrals at the top of the queue."],
                "tables": [_table("Triage queue", queue, ["source_ref", "received_at", "forces", "priority",
                                                          "reasons"])]}

    def _resolve(self) -> dict:
        """Resolve the mentions that arrived since the last run (once), then show the least certain pairs."""
        from workbench.linkage.run import run_all

        with training.open_training(self.folder) as store:
            state = store.query("training/demo_resolution").iloc[0]
            if int(state.resolved_mentions) < int(state.person_mentions):
                run_all(store)
                state = store.query("training/demo_resolution").iloc[0]
            queue = _pairs(store, 5)
            decisions = store.sql("SELECT decision, why FROM link_decisions WHERE active ORDER BY decision_id")
        lines = [f"{int(state.persons)} subjects and {int(state.vehicles)} vehicle(s) resolved from "
                 f"{int(state.person_mentions)} mentions of people in the referrals."]
        if self.before_decision is not None:
            lines.append(f"The analyst has decided {len(decisions)} pair(s): {self.before_decision} subjects before, "
                         f"{int(state.persons)} now.")
        tables = [_table("Least certain pairs for the analyst", queue.rename(columns=PAIR_COLUMNS),
                         list(PAIR_COLUMNS.values()))]
        if len(decisions):
            tables.append(_table("Analyst's decisions", decisions))
        return {"lines": lines, "tables": tables, "persons": int(state.persons)}

    def decide(self) -> int:
        """The analyst's decision on the least certain pair: the same person (recorded, audited, and resolved again
        so the subjects, the group and what follows reflect it)."""
        from workbench.linkage.run import decide, run_all

        self.results.setdefault(2, self._resolve())
        with training.open_training(self.folder) as store:
            queue = _pairs(store, 1)
            if queue.empty:
                raise WorkbenchError("no pair is waiting for the analyst")
            pair = queue.iloc[0]
            before = int(store.query("training/demo_resolution").persons.iloc[0])
            decision = decide(store, "confirm", pair.mention_a, pair.mention_b,
                              "training demonstration: same subject")
            run_all(store)
        self.before_decision = before
        self.decisions.append(decision)
        for later in range(2, len(STEPS)):
            self.results.pop(later, None)
        if self.step == 2:
            self.show()
        else:
            self.go(2)
        return decision

    def _network(self) -> dict:
        with training.open_training(self.folder, read_only=True) as store:
            group = self._group(store)
            members = store.query("linkage/groups_members", group_id=group)
        # the query orders by a float centrality whose last bits differ between runs: order on it rounded, so a
        # second session after Reset lists the members in the same order
        members = (members.assign(_e=members.eigenvector.round(9))
                   .sort_values(["is_key_player", "_e", "person_id"], ascending=[False, False, True], kind="mergesort")
                   .drop(columns="_e"))
        return {"lines": [f"Group {group}: {len(members)} members."],
                "tables": [_table("Members, key players first", members,
                                  ["display_name", "role", "incidents", "degree", "is_broker", "is_key_player"])]}

    def _route(self) -> dict:
        from workbench import crossborder as xb

        with training.open_training(self.folder, read_only=True) as store:
            group = self._group(store)
            cb = xb.analyse(store, group)
        lead = cb.lead.iloc[0] if len(cb.lead) else None
        lines = [f"Group {group} touches {len(cb.forces)} forces in {len(cb.runs.runs)} runs."]
        if lead is not None:
            lines.append(f"Recommended lead force: {lead.get('force_name', lead.get('force_code'))}.")
        return {"lines": lines, "tables": [_table("Forces", cb.forces), _table("Route", cb.runs.route)]}

    def _mo(self) -> dict:
        from workbench import crossborder as xb

        with training.open_training(self.folder, read_only=True) as store:
            group = self._group(store)
            cands = xb.candidates(store, group)
        return {"lines": [f"{len(cands.incidents)} incidents share the group's way of working without a shared name."],
                "tables": [_table("MO candidates", cands.incidents,
                                  ["rank", "occurred_at", "force_code", "store_name", "town", "score", "agrees"])]}

    def _package(self) -> dict:
        from workbench import packages

        with training.open_training(self.folder) as store:
            group = self._group(store)
            result = packages.build(store, group, self.out_dir / "package", purpose="training demonstration")
        files = pd.DataFrame({"file": sorted(p.name for p in (self.out_dir / "package").iterdir() if p.is_file())})
        return {"lines": [f"Package of {group}, version {result['version']}, addressed to {result['lead_force']}; "
                          f"marked {result['marking']}."], "tables": [_table("Files written", files, rows=20)]}


def demo_page(training_dir, session_dir=None, presenter: bool = False):
    """What notebook 06 shows: the demonstration of `training_dir` (presenter view on if asked), or one line saying
    why it cannot start (no training case there, or this kernel already opened a real store). Returns (demo or
    None, widget). The training store is the only store this opens; from then on the kernel refuses real ones."""
    session_dir = Path(session_dir) if session_dir else Path(training_dir) / "session"
    try:
        demo = TrainingDemo(training_dir, session_dir)
    except WorkbenchError as exc:
        return None, w.HTML(str(fragment(NOTES_TEMPLATE, message=f"The demonstration cannot start: {exc}")))
    if presenter:
        demo.set_presenter(True)
    return demo, demo.panel
