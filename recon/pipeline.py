"""The only module that orders the stages: extract, then (in later stages) match, checks, report."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon import __version__
from recon.config.load import Inputs
from recon.extract.load import Progress, load_all
from recon.models import LoadResult, MatchResult, ReviewDecision
from recon.report.csvfiles import write_csv, write_table
from recon.report.options import OutputOptions
from recon.report.staging import check_out_dir, publish, staged
from recon.state.decisions import DecisionStore

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

    from recon.asof import AsOf
    from recon.checks.monthend import MonthendResult
    from recon.checks.quality import QualityResult
    from recon.config.quality import QualityRules
    from recon.report.options import TableFormat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadRun:
    result: LoadResult
    out_dir: Path
    files: tuple[Path, ...]
    seconds: float


def run_load(
    inputs: Inputs,
    out_dir: Path,
    progress: Progress | None = None,
    outputs: OutputOptions | None = None,
) -> LoadRun:
    """Extract and validate every table; write the canonical tables, quarantine and summary."""
    fmt = (outputs or OutputOptions()).table_format
    started = time.perf_counter()
    check_out_dir(out_dir)  # a bad --out stops the run before any work
    result = load_all(inputs, progress)
    files = written(out_dir, lambda staging: write_load_outputs(result, staging, fmt))
    seconds = time.perf_counter() - started
    log.info("load finished in %.1f s", seconds)
    return LoadRun(result, out_dir, files, seconds)


def written(
    out_dir: Path, write: Callable[[Path], list[Path]], failed: Callable[[], str] = lambda: ""
) -> tuple[Path, ...]:
    """``write(staging)`` into a staging folder, then everything moved into ``out_dir`` at once
    (``recon.report.staging``); the files at their final places."""
    with staged(out_dir, failed) as staging:
        return publish(staging, out_dir, write(staging))


def write_load_outputs(
    result: LoadResult, out_dir: Path, table_format: TableFormat = "csv"
) -> list[Path]:
    """``table_format`` (csv, parquet, both): of the canonical tables and the quarantine."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        path
        for name, t in result.tables.items()
        for path in write_table(t.frame, out_dir / "canonical" / f"{name}.csv", table_format)
    ]
    files += write_table(result.quarantine, out_dir / "quarantine.csv", table_format)
    summary = result.summary()
    files.append(write_csv(summary, out_dir / "load_summary.csv"))
    payload = {
        "recon_version": __version__,
        "base_currency": result.base_currency,
        "won_stages": list(result.won_stages),
        "tables": summary.to_dict(orient="records"),
        "notes": list(result.notes),
    }
    path = out_dir / "load_summary.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    files.append(path)
    return files


# What matching reads: the records, and won deals and orders as evidence that a CRM company and
# an ERP customer are one (``recon.match.order_evidence``); invoices and rates it never reads.
MATCH_TABLES = ("crm_companies", "erp_customers", "crm_deals", "erp_orders")


@dataclass(frozen=True)
class MatchRun:
    load: LoadResult
    match: MatchResult
    out_dir: Path
    files: tuple[Path, ...]
    seconds: float


def match(
    load: LoadResult,
    rules_dir: Path | None = None,
    decisions: Sequence[ReviewDecision] | None = None,
) -> MatchResult:
    """records → block → compare → score → cluster → xref → verify existing cross-references.

    ``decisions`` (stored review decisions) are honoured by clustering: a confirmed pair is a link,
    a rejected pair never is, whatever its score.
    """
    from recon.config.blocking import load_blocking_rules
    from recon.config.matching import load_matching_rules
    from recon.config.survivorship import load_entity_rules
    from recon.match import order_evidence
    from recon.match.block import candidate_pairs, pass_counts
    from recon.match.cluster import cluster_records
    from recon.match.compare import compare_pairs
    from recon.match.records import build_records
    from recon.match.review import review_links
    from recon.match.score import fit_model, pair_weights, score_pairs
    from recon.match.verify import verify_claims
    from recon.match.xref import assign_xref
    from recon.normalize import load_normalize_rules

    timings: dict[str, float] = {}

    def step(name: str, started: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - started, 3)
        log.info("%s: %.1f s", name, now - started)
        return now

    t = time.perf_counter()
    normalize_rules = load_normalize_rules(rules_dir)
    blocking_rules = load_blocking_rules(rules_dir)
    matching_rules = load_matching_rules(rules_dir / "matching.yaml" if rules_dir else None)
    entity_rules = load_entity_rules(rules_dir)
    t = step("rules", t)
    companies, customers = load.frame("crm_companies"), load.frame("erp_customers")
    assert companies is not None and customers is not None
    records = build_records(
        companies,
        customers,
        crm_deals=load.frame("crm_deals"),
        erp_orders=load.frame("erp_orders"),
        rules=normalize_rules,
    )
    t = step("normalize", t)
    found = _order_evidence(load, records, matching_rules)
    if found is not None:
        t = step("orders", t)
    proposed = (
        order_evidence.proposed(found, blocking_rules.orders.min_coincidences)
        if found is not None
        else None
    )
    pairs = candidate_pairs(records, blocking_rules, proposed)
    t = step("block", t)
    compared = compare_pairs(records, pairs, matching_rules)
    t = step("compare", t)
    model = fit_model(records, compared, matching_rules)
    learned = model.to_dict()
    extra = weight = None
    if found is not None:
        weight = pair_weights(records, pairs, compared, model, matching_rules)
        added = _order_bits(records, pairs, weight, matching_rules, found)
        extra, learned["orders"] = (added.bits, added.reasons), added.summary
    scored = score_pairs(
        records, pairs, compared, model, matching_rules, extra=extra, weight=weight
    )
    candidates, passes = len(pairs), pass_counts(pairs)
    del pairs, compared  # at a million records these hold gigabytes no later step reads
    t = step("score", t)
    reviewed = review_links(records, decisions or ())
    clustering = cluster_records(
        records,
        scored,
        entity_rules,
        must_link=reviewed.must_link,
        cannot_link=reviewed.cannot_link,
    )
    del scored  # clustering.pairs carries the scored pairs on, with their decisions
    ids = assign_xref(records, clustering, entity_rules)
    xref = ids.xref
    t = step("cluster", t)
    claims = verify_claims(records, clustering.entity, ids.by_record)
    step("verify", t)
    return MatchResult(
        records=records,
        scored=clustering.pairs,
        entity=clustering.entity,
        xref=xref,
        duplicates=ids.duplicates,
        crm_import=ids.crm_import,
        erp_import=ids.erp_import,
        claims=claims,
        candidates=candidates,
        pass_counts=passes,
        model=learned,
        timings=timings,
        reviews=reviewed.counts(len(decisions or ())),
    )


def _order_evidence(load: LoadResult, records: Any, rules: Any) -> Any:
    """Coincidences of won deals and orders (``recon.match.order_evidence``), or None when they
    are switched off or not loaded."""
    from recon.match import order_evidence

    deals, orders = load.frame("crm_deals"), load.frame("erp_orders")
    if not rules.orders.enabled or deals is None or orders is None:
        return None
    if not len(deals) or not len(orders):
        return None
    return order_evidence.find(records, deals, orders, load.won_stages, load.base_currency)


def _order_bits(records: Any, pairs: Any, weight: Any, rules: Any, found: Any) -> Any:
    """The bits won deals and orders add to each pair, learned from the pairs the other fields
    already link (their ``weight`` reaches the auto threshold)."""
    import numpy as np

    from recon.match import order_evidence

    auto = rules.thresholds.auto
    linked = weight >= np.log2(auto / (1 - auto)) if auto < 1 else np.zeros(len(weight), bool)
    is_erp = (records["system"] == "erp").to_numpy(dtype=bool)
    level, count = order_evidence.pair_levels(pairs, found, is_erp)
    added = order_evidence.order_bits(
        level, count, linked, found, is_erp, rules.orders.weight_limit
    )
    log.info("won deals and orders: %s", added.summary)
    return added


def run_match(
    inputs: Inputs,
    out_dir: Path,
    progress: Progress | None = None,
    decisions: Sequence[ReviewDecision] | None = None,
    outputs: OutputOptions | None = None,
) -> MatchRun:
    """Load, then match; write the load outputs and the matcher's files."""
    from recon.report.match_outputs import write_match_outputs

    fmt = (outputs or OutputOptions()).table_format
    started = time.perf_counter()
    check_out_dir(out_dir)
    loaded = load_all(inputs, progress, only=MATCH_TABLES)
    result = match(loaded, decisions=decisions)
    files = written(
        out_dir,
        lambda staging: (
            write_load_outputs(loaded, staging, fmt) + write_match_outputs(result, staging, fmt)
        ),
    )
    seconds = time.perf_counter() - started
    return MatchRun(loaded, result, out_dir, files, seconds)


@dataclass(frozen=True)
class ReviewApply:
    decisions: tuple[ReviewDecision, ...]
    undecided: int  # rows left empty or marked skip
    added: int
    changed: int
    unchanged: int
    store: str


def apply_review(files: Sequence[Path], inputs: Inputs, store: DecisionStore) -> ReviewApply:
    """Read reviewed files, check every row against the data, store the decisions: all or none."""
    import datetime as dt

    from recon.errors import SourceError
    from recon.extract.load import load_table
    from recon.extract.review import read_review_files
    from recon.match.review import check_review_rows, review_records

    rows = read_review_files(list(files))
    companies, customers = (
        load_table(name, inputs.config.tables[name], inputs).frame
        for name in ("crm_companies", "erp_customers")
    )
    applied_at = dt.datetime.now().astimezone().replace(microsecond=0)
    check = check_review_rows(
        rows, review_records(companies, customers), origin=inputs.origin, applied_at=applied_at
    )
    if check.problems:
        raise SourceError(check.message())
    added = store.add(check.decisions)
    return ReviewApply(
        tuple(check.decisions),
        check.undecided,
        added.added,
        added.changed,
        added.unchanged,
        store.location,
    )


@dataclass(frozen=True)
class FullRun:
    load: LoadResult
    match: MatchResult
    checks: dict[str, Any]  # each check's result by name, as the report reads it
    out_dir: Path
    files: tuple[Path, ...]
    timings: dict[str, float]
    manifest: Path
    state: Recorded | None = None  # what the state store recorded (None without a store)
    as_of: AsOf | None = None  # the day every check counted back from, and why that day


def resolve_day(
    option: dt.date | str | None,
    loaded: LoadResult,
    rules: Any,  # recon.config.leakage.LeakageRules
    today: dt.date,
    rules_file: Path | None = None,
) -> AsOf:
    """The command's as-of day, resolved once after loading (``recon.asof``): ``--as-of``, else
    ``as_of`` in the leakage rules, else the data's own end when earlier than today, else today."""
    from recon.asof import resolve_as_of

    resolved = resolve_as_of(
        option,
        rules.as_of,
        {name: table.frame for name, table in loaded.tables.items()},
        today,
        won_stages=loaded.won_stages,
        lost_stages=rules.lost_stages,
        rules_file=str(rules_file) if rules_file is not None else "rules/leakage.yaml",
    )
    log.info("%s", resolved.line())
    return resolved


def default_months(day: dt.date) -> tuple[pd.Period, ...]:
    """The twelve complete months up to ``day``: as of 2026-10-31 that is 2025-11 to 2026-10, as of
    2026-11-23 too."""
    import datetime

    import pandas as pd

    last_complete = pd.Period(day + datetime.timedelta(days=1), freq="M") - 1
    return tuple(pd.period_range(last_complete - 11, last_complete, freq="M"))


def run_all(
    inputs: Inputs,
    out_dir: Path,
    progress: Progress | None = None,
    decisions: Sequence[ReviewDecision] | None = None,
    *,
    decisions_store: str = "",
    as_of: dt.date | str | None = None,
    months: Sequence[Any] | None = None,
    store: str | None = None,
    outputs: OutputOptions | None = None,
) -> FullRun:
    """load → match → checks → state → reports → run.json, each stage timed; what ``recon run`` does.

    With ``store`` (a state-store URL) the run is recorded there in one transaction after the
    checks, and every output carries the store's stable xref ids and the leakage lifecycle.

    ``as_of`` (a date, ``"today"`` or None) is resolved once, after loading, by ``resolve_day``:
    without one the data's own end when it is earlier than today. Every check counts from that
    day. ``months`` for the month-end check default to the twelve complete months up to it
    (``default_months``): as of 2026-10-31 that is 2025-11 to 2026-10, as of 2026-11-23 too.
    """
    import datetime

    from recon.config.leakage import load_leakage_rules
    from recon.config.quality import load_quality_rules
    from recon.report.data import build_report_data
    from recon.report.email_body import write_email_body
    from recon.report.leakage_outputs import write_leakage_outputs
    from recon.report.match_outputs import match_tables, write_match_outputs
    from recon.report.monthend_outputs import write_monthend_outputs
    from recon.report.quality_outputs import write_quality_outputs
    from recon.report.run_manifest import check_counts, run_manifest, write_run_manifest
    from recon.report.write import write_reports
    from recon.resources import rules_dir

    outputs = outputs or OutputOptions()  # the large tables' format, the rows per sheet
    fmt = outputs.table_format
    started_at = datetime.datetime.now().astimezone()
    quality_rules = load_quality_rules()  # rule files are checked before any work
    leakage_rules = load_leakage_rules()
    check_out_dir(out_dir)
    timings: dict[str, float] = {}
    last = [time.perf_counter()]

    def done(stage: str) -> None:
        _release_unused()
        now = time.perf_counter()
        timings[stage] = round(now - last[0], 3)
        last[0] = now

    loaded = load_all(inputs, progress)
    resolved = resolve_day(as_of, loaded, leakage_rules, started_at.date())
    months = months or default_months(resolved.day)
    done("load")
    result = match(loaded, decisions=decisions)
    histogram, result = _pairs_read_later(result)
    done("match")
    found: dict[str, Any] = {}
    writers: dict[str, Callable[[Any, Path], list[Path]]] = {}

    def check(name: str, checked: Any, write: Callable[[Any, Path], list[Path]]) -> None:
        """Keep one check's result and how to write its files (after the state store), time it."""
        found[name] = checked
        writers[name] = write
        done(name)

    day = resolved.day
    check(
        "quality",
        quality(loaded, result, quality_rules, day),
        lambda found, out: write_quality_outputs(found, out, fmt),
    )
    result = _records_read_later(result)
    check(
        "leakage",
        leakage(loaded, result, leakage_rules, day),
        lambda found, out: write_leakage_outputs(
            found, out, len(found.findings), as_of_source=resolved.source, table_format=fmt
        ),
    )
    check(
        "monthend",
        monthend(loaded, result, months, leakage=found["leakage"]),
        lambda found, out: write_monthend_outputs(found, out, fmt),
    )
    state = None
    leakage_frame = found["leakage"].findings
    if store:
        state = record_state(
            store,
            "run",
            inputs,
            loaded,
            result,
            found["leakage"],
            {"quality": found["quality"].findings},
            started_at=started_at,
            timings=timings,
        )
        result = stable_ids(result, state.record)
        found = {name: stable_ids(checked, state.record) for name, checked in found.items()}
        found["leakage"] = replace(found["leakage"], findings=state.current)
        leakage_frame = state.leakage
        done("state")

    def write(staging: Path) -> list[Path]:
        tables = match_tables(result)  # the files and the report show the same tables
        files = write_load_outputs(loaded, staging, fmt)
        files += write_match_outputs(result, staging, fmt, tables)
        for name, checked in found.items():
            files += writers[name](checked, staging)
        if state is not None:  # leakage.csv: the lifecycle columns, and the resolved findings too
            write_table(state.leakage, staging / "leakage.csv", fmt)
        report = build_report_data(
            loaded,
            result,
            leakage=leakage_frame,
            monthend=found["monthend"].summary,
            monthend_differences=found["monthend"].differences,
            quality=found["quality"].findings,
            generated_at=started_at,
            leakage_history=state.history if state is not None else None,
            as_of=resolved.day,
            as_of_source=resolved.source,
            leakage_habits=found["leakage"].habits,
            options=outputs,
            score_histogram=histogram,
            match_tables=tables,
        )
        files += write_reports(report, staging)
        files += write_email_body(report, staging, "run", state.run_id if state else None)
        done("report")
        timings["total"] = round(sum(timings.values()), 3)
        manifest = run_manifest(
            inputs=inputs,
            load=loaded,
            match=result,
            rules_dir=rules_dir(),
            started_at=started_at,
            as_of=resolved.day,
            as_of_source=resolved.source,
            timings=timings,
            decisions_store=decisions_store,
            checks={name: check_counts(checked) for name, checked in found.items()},
            outputs=files,
            out_dir=staging,
            state=state.manifest() if state is not None else None,
        )
        return [*files, write_run_manifest(manifest, staging)]

    files = written(out_dir, write, _not_written(state))
    path = out_dir / "run.json"
    log.info("run finished in %.1f s", timings["total"])
    return FullRun(loaded, result, found, out_dir, files, timings, path, state, resolved)


def _pairs_read_later(result: MatchResult) -> tuple[pd.DataFrame, MatchResult]:
    """The score histogram of every candidate pair, and ``result`` keeping only the pairs decided
    auto or review: after matching, ``recon run`` and ``recon leakage`` read nothing else of them
    (counts, matches, review list), and at a million records the other ~15M pairs hold a
    gigabyte until the end. ``recon.report.match_outputs.pair_table`` selects the same rows in
    the same order either way.
    """
    import numpy as np

    from recon.report.sections import score_histogram

    scored = result.scored
    histogram = score_histogram(scored["probability"].to_numpy(dtype=float))
    kept = np.flatnonzero(scored["decision"].isin(("auto", "review")).to_numpy(dtype=bool))
    return histogram, replace(result, scored=scored.take(kept).reset_index(drop=True))


def _records_read_later(result: MatchResult) -> MatchResult:
    """``result`` with only the record columns read after the quality check: ids and names (the
    matches and the review list), the keys the xref file shows and those the leakage check and
    month-end read. The quality check is the last to read the others (tokens, addresses, ...):
    at a million records they hold some hundreds of megabytes until the end of the run."""
    from recon.report.match_outputs import KEYS

    wanted = dict.fromkeys(["system", "record_id", "name", *KEYS, *RECORD_KEYS])
    return replace(result, records=result.records[[c for c in wanted if c in result.records]])


def _release_unused() -> None:
    """Hand the memory Arrow keeps for reuse back to the system between steps: what one step
    freed is then there for the next step's NumPy and Python objects too, not only Arrow's."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


@dataclass(frozen=True)
class Recorded:
    """What the state store recorded for a run, and what the outputs take from it.

    ``leakage``: the leakage findings with the lifecycle columns (``recon.state.history``), then
    the rows of findings resolved since the previous run. ``current``: the same without the
    resolved rows. ``previous_run``: the last earlier run that checked leakage (None on a store's
    first). ``new``: leakage findings not live in the store before (of the kinds counted as
    leakage).
    """

    location: str
    record: Any  # recon.state.record.RunRecord
    leakage: Any  # pd.DataFrame
    current: Any  # pd.DataFrame
    previous_run: int | None
    new: int
    history: Any  # recon.report.data.LeakageHistory
    url: str = field(default="", repr=False)  # the store's URL, secrets included: never shown

    @property
    def run_id(self) -> int:
        return int(self.record.run_id)

    def finish(self, status: str) -> str:
        """Record whether the run's outputs and report got out (``recon.state.lifecycle``'s run
        statuses); when they did not, the sentence that tells the user what that means."""
        from recon.state.lifecycle import DELIVERED
        from recon.state.record import finish_run
        from recon.state.store import Store

        with Store.open(self.url, create=False) as store:
            finish_run(store, self.run_id, status)
        if status == DELIVERED:
            return ""
        return (
            f"Run {self.run_id} is recorded in {self.location} as {status}: its new findings "
            "stay new until a run delivers them."
        )

    def changes(self) -> dict[str, int]:
        """Leakage findings by change: new, open, expired, accepted, resolved."""
        counts = self.leakage["change"].value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def manifest(self) -> dict[str, Any]:
        """run.json's ``state``: where the run was recorded, as which run, and what changed."""
        return {
            "store": self.location,
            "run_id": self.run_id,
            "previous_run": self.previous_run,
            "leakage_changes": self.changes(),
            "xref_changes": self.record.counts()["xref_changes"],
        }


def record_state(
    store_url: str,
    command: str,
    inputs: Inputs,
    loaded: LoadResult,
    matched: MatchResult,
    leakage_result: Any,
    other_findings: dict[str, Any],
    *,
    started_at: dt.datetime,
    timings: dict[str, float],
    extra_rules: Sequence[Path] = (),
) -> Recorded:
    """Record the run in the state store (one ``record_run``, one transaction), then read back the
    leakage lifecycle and the value-at-risk trend for the outputs."""
    from recon.checks.leakage.findings import LEAKAGE_KINDS
    from recon.report.check_sections import at_risk_values
    from recon.report.data import LeakageHistory
    from recon.report.run_manifest import input_files, rule_files, sha256_file
    from recon.resources import rules_dir
    from recon.state import history
    from recon.state.lifecycle import PENDING
    from recon.state.record import RunInfo, record_run
    from recon.state.store import Store

    findings = leakage_result.findings.reset_index(drop=True)
    as_of = leakage_result.as_of
    rules = rule_files(rules_dir())
    rules += [{"path": str(p), "sha256": sha256_file(p)} for p in extra_rules]
    with Store.open(store_url) as store:
        # Acceptances are known before the run: its value at risk leaves the accepted ones out.
        accepted = history.accepted_rows(findings, store, as_of)
        value = float(at_risk_values(findings[~accepted]).sum())
        info = RunInfo(
            command=command,
            started_at=started_at,
            as_of=as_of,
            inputs=input_files(inputs, loaded),
            rules=rules,
            counts={
                "match": matched.counts(),
                "leakage": {**leakage_result.counts, "value_at_risk": round(value, 2)},
            },
            timings=dict(timings),
            status=PENDING,  # until its outputs are written and delivered (Recorded.finish)
        )
        record = record_run(store, info, matched, {"leakage": findings, **other_findings})
        frame = history.with_lifecycle(record.stable(findings), record, store)
        runs = history.leakage_runs(store, record.run_id)
        location = store.location
    record = record.counted()  # the outputs read only its ids map and counts
    earlier = runs[runs["run_id"] < record.run_id]
    previous = earlier.iloc[-1] if len(earlier) else None
    valued = runs[runs["value_at_risk"].notna()].tail(history.TREND_RUNS)
    trend = tuple(
        (f"{d} #{r}" if d else f"run #{r}", float(v))
        for r, d, v in valued[["run_id", "as_of", "value_at_risk"]].itertuples(
            index=False, name=None
        )
    )
    label = f"{previous['as_of']}, run {previous['run_id']}" if previous is not None else ""
    change = frame["change"].astype("string")
    new = int((change.eq("new") & frame["kind"].astype("string").isin(LEAKAGE_KINDS)).sum())
    return Recorded(
        location=location,
        record=record,
        leakage=frame,
        current=frame[change.ne("resolved").fillna(True).to_numpy()].reset_index(drop=True),
        previous_run=int(previous["run_id"]) if previous is not None else None,
        new=new,
        history=LeakageHistory(label, trend),
        url=store_url,
    )


def _not_written(state: Recorded | None) -> Callable[[], str]:
    """What runs when a recorded run's outputs could not be written: record it so (best effort: a
    store that fails now leaves the run pending, which counts the same)."""

    def failed() -> str:
        if state is None:
            return ""
        from recon.errors import ReconError
        from recon.state.lifecycle import NOT_WRITTEN

        try:
            return state.finish(NOT_WRITTEN)
        except ReconError as exc:
            log.warning("could not record run %d as not written: %s", state.run_id, exc)
            return ""

    return failed


def stable_ids(result: Any, record: Any) -> Any:
    """A frozen result (MatchResult, a check's result) with every frame's xref_id column rewritten
    to the store's stable ids (``RunRecord.stable``); frames without one are left as they are."""
    import pandas as pd

    changed = {
        f.name: record.stable(value)
        for f in fields(result)
        if isinstance(value := getattr(result, f.name), pd.DataFrame) and "xref_id" in value
    }
    return replace(result, **changed) if changed else result


@dataclass(frozen=True)
class QualityRun:
    load: LoadResult
    match: MatchResult
    quality: QualityResult
    out_dir: Path
    files: tuple[Path, ...]
    seconds: float
    as_of: AsOf | None = None  # the day stale records counted back from, and why that day


def quality(
    load: LoadResult,
    matched: MatchResult,
    rules: QualityRules | None = None,
    as_of: dt.date | None = None,
) -> QualityResult:
    """Data-quality checks of every record and deal, and field drift between linked records."""
    from recon.checks.quality import check_quality
    from recon.config.quality import load_quality_rules

    companies, customers = load.frame("crm_companies"), load.frame("erp_customers")
    assert companies is not None and customers is not None
    return check_quality(
        companies,
        customers,
        rules or load_quality_rules(),
        deals=load.frame("crm_deals"),
        records=matched.records,
        xref=matched.xref,
        won_stages=load.won_stages,
        as_of=as_of,
    )


def run_quality(
    inputs: Inputs,
    out_dir: Path,
    progress: Progress | None = None,
    decisions: Sequence[ReviewDecision] | None = None,
    *,
    rules_dir: Path | None = None,
    as_of: dt.date | str | None = None,
    outputs: OutputOptions | None = None,
) -> QualityRun:
    """Load → match → quality; write the load, matcher and quality files.

    ``as_of`` (a date, ``"today"`` or None) is resolved as ``run_all`` does (``resolve_day``)."""
    import datetime

    from recon.config.leakage import load_leakage_rules
    from recon.config.quality import load_quality_rules
    from recon.report.quality_outputs import write_quality_outputs

    rules = load_quality_rules(rules_dir)  # a bad rule file stops the run before any work
    leakage_rules = load_leakage_rules()  # its as_of and lost stages decide the as-of day
    today = datetime.date.today()
    resolved: list[AsOf] = []

    def check(loaded: LoadResult, matched: MatchResult) -> QualityResult:
        resolved.append(resolve_day(as_of, loaded, leakage_rules, today))
        return quality(loaded, matched, rules, resolved[0].day)

    loaded, matched, checked, files, seconds = _one_check(
        "quality", inputs, out_dir, progress, decisions, check, write_quality_outputs,
        outputs=outputs,
    )  # fmt: skip
    return QualityRun(loaded, matched, checked, out_dir, files, seconds, resolved[0])


def _one_check(
    name: str,
    inputs: Inputs,
    out_dir: Path,
    progress: Progress | None,
    decisions: Sequence[ReviewDecision] | None,
    check: Callable[[LoadResult, MatchResult], Any],
    write: Callable[[Any, Path, TableFormat], list[Path]],
    rules_dir: Path | None = None,
    outputs: OutputOptions | None = None,
) -> tuple[LoadResult, MatchResult, Any, tuple[Path, ...], float]:
    """Load → match → one check; write the load, matcher and check files (``write(result,
    folder, table_format)``)."""
    from recon.report.match_outputs import write_match_outputs

    fmt = (outputs or OutputOptions()).table_format
    started = time.perf_counter()
    check_out_dir(out_dir)
    loaded = load_all(inputs, progress)
    matched = match(loaded, rules_dir, decisions=decisions)
    result = check(loaded, matched)
    files = written(
        out_dir,
        lambda staging: (
            write_load_outputs(loaded, staging, fmt)
            + write_match_outputs(matched, staging, fmt)
            + write(result, staging, fmt)
        ),
    )
    seconds = time.perf_counter() - started
    log.info("%s finished in %.1f s", name, seconds)
    return loaded, matched, result, files, seconds


@dataclass(frozen=True)
class MonthendRun:
    load: LoadResult
    match: MatchResult
    monthend: MonthendResult
    out_dir: Path
    files: tuple[Path, ...]
    seconds: float


def _check_frames(load: LoadResult, matched: MatchResult) -> Any:
    """What the leakage check reads (recon.checks.leakage.Frames): the tables, the matcher's
    entities with each record's stated and inferred country, and the review list."""
    from recon.checks.leakage import Frames

    deals, orders = load.frame("crm_deals"), load.frame("erp_orders")
    companies = load.frame("crm_companies")
    assert deals is not None and orders is not None and companies is not None
    xref = matched.xref[["system", "record_id", "xref_id"]].astype(str)
    xref = xref.merge(record_keys(matched), on=["system", "record_id"], how="left")
    return Frames(
        deals,
        companies,
        load.frame("erp_customers"),
        orders,
        load.frame("fx_rates"),
        xref,
        _review_pairs(matched),
    )


# What the leakage check reads of each record: its country (VAT), and the keys that tell whether
# a CRM company and an ERP customer whose deal and order coincide are one company.
RECORD_KEYS = ("country_code", "country_inferred", "name_norm", "domain", "freemail", "phone_e164")


def record_keys(matched: MatchResult) -> pd.DataFrame:
    columns = [c for c in RECORD_KEYS if c in matched.records.columns]
    keys = matched.records[["system", "record_id", *columns]]
    return keys.astype({"system": str, "record_id": str})


def _review_pairs(matched: MatchResult) -> pd.DataFrame:
    """The CRM–ERP pairs on the review list (as review.csv lists them): crm_id, erp_id,
    crm_name, erp_name, score."""
    from recon.report.match_outputs import pair_table

    pairs = pair_table(matched, ("review",))
    cross = (pairs["left_system"] == "crm") & (pairs["right_system"] == "erp")
    names = {"left_id": "crm_id", "right_id": "erp_id", "left_name": "crm_name"}
    names["right_name"] = "erp_name"
    return pairs.loc[cross].rename(columns=names)[[*names.values(), "score"]]


def _inferred_erp(matched: MatchResult) -> pd.Series:
    """ERP customer id → the country its phone, domain, legal form or city gives it."""
    import pandas as pd

    records = matched.records
    erp = (records["system"].astype(str) == "erp").to_numpy() & records[
        "country_inferred"
    ].notna().to_numpy(dtype=bool)
    return pd.Series(
        records.loc[erp, "country_inferred"].to_numpy(dtype=object),
        index=records.loc[erp, "record_id"].astype(str).to_numpy(),
    )


def monthend(
    load: LoadResult,
    matched: MatchResult,
    months: Sequence[Any],
    rules_dir: Path | None = None,
    leakage: Any = None,  # recon.checks.leakage.LeakageResult of the same run, if it ran
) -> MonthendResult:
    """Deal–order links from the leakage assignment, then the month-end reconciliation.

    With ``leakage`` (the same run's result, same rules) month-end reads the assignment it made;
    without it, or when it left out deals or orders dated after its as-of day, month-end makes
    the assignment once through the same function (``recon.checks.monthend_links``)."""
    import datetime
    from dataclasses import replace

    from recon.checks.monthend import MonthendOptions
    from recon.checks.monthend import monthend as reconcile
    from recon.checks.monthend_links import assigned_links, assignment_day, deal_order_links
    from recon.checks.monthend_prep import tax_rate_of_customers
    from recon.config.leakage import load_leakage_rules
    from recon.fx import to_base
    from recon.normalize import load_normalize_rules

    rules = load_leakage_rules(rules_dir / "leakage.yaml" if rules_dir else None)
    base = (rules.currency.base or load.base_currency).upper()
    cancelled = (*rules.cancelled_statuses, *load.tables["erp_orders"].cancelled_statuses)
    deals, orders = load.frame("crm_deals"), load.frame("erp_orders")
    companies, customers = load.frame("crm_companies"), load.frame("erp_customers")
    fx = load.frame("fx_rates")
    assert deals is not None and orders is not None
    taxes = getattr(leakage, "tax_readings", None)  # None: a result made before it was kept
    ran = leakage.as_of if leakage is not None else None
    run_day = ran or resolve_day(None, load, rules, datetime.date.today()).day
    day = assignment_day(deals, orders, run_day, load.won_stages)
    if taxes is not None and day == ran and leakage.base_currency == base:
        assigned = leakage.links
    else:  # the same frames as the leakage check, so both assign orders alike (VAT included)
        assigned, taxes = assigned_links(
            _check_frames(load, matched),
            rules,
            day=day,
            base=base,
            won_stages=load.won_stages,
            cancelled_statuses=cancelled,
        )
    links, how = deal_order_links(
        deals, orders, assigned, won_stages=load.won_stages, cancelled_statuses=cancelled
    )

    def convert(amount: Any, currency: Any, on: Any) -> Any:
        return to_base(amount, currency, on, fx, base)

    options = MonthendOptions(
        won_stages=load.won_stages,
        base_currency=base,
        cancelled_statuses=cancelled,
        convert=convert,
        tax_rate_of_customer=tax_rate_of_customers(
            customers, rules.tax_rates, load_normalize_rules(rules_dir), _inferred_erp(matched)
        ),
        # as the leakage assignment allowed them ("auto" decided from the named orders)
        orders_may_include_tax=taxes.orders_with_tax,
        deals_may_include_tax=taxes.deals_with_tax,
    )
    result = reconcile(
        deals,
        orders,
        load.frame("erp_invoices"),
        links,
        matched.xref,
        months,
        options,
        companies=companies,
        customers=customers,
    )
    notes = (how, f"VAT readings: {taxes.note}") if taxes.note else (how,)
    return replace(result, notes=(*notes, *result.notes))


def run_monthend(
    inputs: Inputs,
    out_dir: Path,
    months: Sequence[Any],
    progress: Progress | None = None,
    *,
    rules_dir: Path | None = None,
    decisions: Sequence[ReviewDecision] | None = None,
    outputs: OutputOptions | None = None,
) -> MonthendRun:
    """Load → match → month-end; write the load, matcher and month-end files."""
    from recon.report.monthend_outputs import write_monthend_outputs

    loaded, matched, result, files, seconds = _one_check(
        "monthend",
        inputs,
        out_dir,
        progress,
        decisions,
        lambda loaded, matched: monthend(loaded, matched, months, rules_dir),
        write_monthend_outputs,
        rules_dir,
        outputs,
    )
    return MonthendRun(loaded, matched, result, out_dir, files, seconds)


@dataclass(frozen=True)
class LeakageRun:
    load: LoadResult
    match: MatchResult
    leakage: Any  # recon.checks.leakage.LeakageResult
    new: int  # leakage findings new since the previous run (else: inside the window)
    out_dir: Path
    files: tuple[Path, ...]
    seconds: float
    state: Recorded | None = None  # what the state store recorded (None without a store)
    manifest: Path | None = None  # run.json
    as_of: AsOf | None = None  # the day the check looked from, and why that day
    since: dt.date | None = None  # start of the window "new" was counted in (None: in total)


def leakage(
    load: LoadResult,
    matched: MatchResult,
    rules: Any,  # recon.config.leakage.LeakageRules
    as_of: dt.date | None = None,
) -> Any:
    """Won deals against ERP orders through the matcher's entities (recon.checks.leakage)."""
    from recon.checks.leakage import find_leakage

    return find_leakage(
        _check_frames(load, matched),
        rules,
        as_of=as_of,
        base_currency=load.base_currency,
        won_stages=load.won_stages,
        cancelled_statuses=load.tables["erp_orders"].cancelled_statuses,
    )


def run_leakage(
    inputs: Inputs,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    as_of: dt.date | str | None = None,
    since: dt.date | None = None,
    since_days: int | None = None,
    rules_path: Path | None = None,
    decisions: Sequence[ReviewDecision] | None = None,
    store: str | None = None,
    decisions_store: str = "",
    outputs: OutputOptions | None = None,
) -> LeakageRun:
    """Load → match → leakage → state → files, report and run.json.

    With ``store`` the run is recorded in the state store and ``new`` counts the leakage findings
    that were not live in it before (compared with the previous run). On a store's first run,
    and without a store, ``new`` counts the leakage findings that became leakage from ``since`` to
    the as-of date (all of them when ``since`` is None): see ``recon.checks.leakage.new_leakage``.

    ``as_of`` (a date, ``"today"`` or None) is resolved once after loading (``resolve_day``, with
    the ``as_of`` of ``rules_path``); ``since_days`` sets ``since`` that many days before it.
    """
    import datetime

    from recon.checks.leakage import new_leakage
    from recon.config.leakage import load_leakage_rules
    from recon.report.data import build_report_data
    from recon.report.email_body import write_email_body
    from recon.report.leakage_outputs import write_leakage_outputs
    from recon.report.match_outputs import match_tables, write_match_outputs
    from recon.report.run_manifest import check_counts, run_manifest, write_run_manifest
    from recon.report.write import write_reports
    from recon.resources import rules_dir

    outputs = outputs or OutputOptions()  # the large tables' format, the rows per sheet
    fmt = outputs.table_format
    started = time.perf_counter()
    started_at = datetime.datetime.now().astimezone()
    rules = load_leakage_rules(rules_path)  # a bad rules file stops the run before any work
    check_out_dir(out_dir)
    loaded = load_all(inputs, progress)
    resolved = resolve_day(as_of, loaded, rules, started_at.date(), rules_path)
    if since_days is not None:
        since = resolved.day - datetime.timedelta(days=since_days)
    matched = match(loaded, decisions=decisions)
    histogram, matched = _pairs_read_later(matched)
    result = leakage(loaded, matched, rules, resolved.day)
    new = int(new_leakage(result.findings, since, result.as_of).sum())
    timings = {"checks": round(time.perf_counter() - started, 3)}
    state = None
    frame = result.findings
    if store:
        state = record_state(
            store,
            "leakage",
            inputs,
            loaded,
            matched,
            result,
            {},
            started_at=started_at,
            timings=timings,
            extra_rules=(rules_path,) if rules_path is not None else (),
        )
        matched = stable_ids(matched, state.record)
        result = replace(result, findings=state.current)
        frame = state.leakage
        if state.previous_run is not None:
            new = state.new

    def write(staging: Path) -> list[Path]:
        tables = match_tables(matched)  # the files and the report show the same tables
        files = (
            write_load_outputs(loaded, staging, fmt)
            + write_match_outputs(matched, staging, fmt, tables)
            + write_leakage_outputs(
                result, staging, new, as_of_source=resolved.source, table_format=fmt
            )
        )
        if state is not None:  # leakage.csv: the lifecycle columns, and the resolved findings too
            write_table(frame, staging / "leakage.csv", fmt)
        report = build_report_data(
            loaded,
            matched,
            leakage=frame,
            generated_at=started_at,
            leakage_history=state.history if state is not None else None,
            as_of=resolved.day,
            as_of_source=resolved.source,
            leakage_habits=result.habits,
            options=outputs,
            score_histogram=histogram,
            match_tables=tables,
        )
        files += write_reports(report, staging)
        files += write_email_body(report, staging, "leakage", state.run_id if state else None)
        timings["total"] = round(time.perf_counter() - started, 3)
        manifest = run_manifest(
            inputs=inputs,
            load=loaded,
            match=matched,
            rules_dir=rules_dir(),
            started_at=started_at,
            as_of=resolved.day,
            as_of_source=resolved.source,
            timings=timings,
            decisions_store=decisions_store,
            checks={"leakage": {**check_counts(result), "new_leakage": new}},
            outputs=files,
            out_dir=staging,
            state=state.manifest() if state is not None else None,
        )
        return [*files, write_run_manifest(manifest, staging)]

    files = written(out_dir, write, _not_written(state))
    path = out_dir / "run.json"
    seconds = time.perf_counter() - started
    log.info("leakage finished in %.1f s", seconds)
    return LeakageRun(
        loaded, matched, result, new, out_dir, files, seconds, state, path, resolved, since
    )
