"""The only module that orders the stages: extract, then (in later stages) match, checks, report."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from recon import __version__
from recon.config.load import Inputs
from recon.extract.load import Progress, load_all
from recon.models import LoadResult, MatchResult
from recon.report.csvfiles import write_csv

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadRun:
    result: LoadResult
    out_dir: Path
    files: tuple[Path, ...]
    seconds: float


def run_load(inputs: Inputs, out_dir: Path, progress: Progress | None = None) -> LoadRun:
    """Extract and validate every table; write the canonical tables, quarantine and summary."""
    started = time.perf_counter()
    result = load_all(inputs, progress)
    files = write_load_outputs(result, out_dir)
    seconds = time.perf_counter() - started
    log.info("load finished in %.1f s", seconds)
    return LoadRun(result, out_dir, tuple(files), seconds)


def write_load_outputs(result: LoadResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [
        write_csv(t.frame, out_dir / "canonical" / f"{name}.csv")
        for name, t in result.tables.items()
    ]
    files.append(write_csv(result.quarantine, out_dir / "quarantine.csv"))
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


@dataclass(frozen=True)
class MatchRun:
    load: LoadResult
    match: MatchResult
    out_dir: Path
    files: tuple[Path, ...]
    seconds: float


def match(load: LoadResult, rules_dir: Path | None = None) -> MatchResult:
    """records → block → compare → score → cluster → xref → verify existing cross-references."""
    from recon.config.blocking import load_blocking_rules
    from recon.config.matching import load_matching_rules
    from recon.config.survivorship import load_entity_rules
    from recon.match.block import candidate_pairs, pass_counts
    from recon.match.cluster import cluster_records
    from recon.match.compare import compare_pairs
    from recon.match.records import build_records
    from recon.match.score import fit_model, score_pairs
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
    pairs = candidate_pairs(records, blocking_rules)
    t = step("block", t)
    compared = compare_pairs(records, pairs, matching_rules)
    t = step("compare", t)
    model = fit_model(records, compared, matching_rules)
    scored = score_pairs(records, pairs, compared, model, matching_rules)
    t = step("score", t)
    clustering = cluster_records(records, scored, entity_rules)
    ids = assign_xref(records, clustering, entity_rules)
    xref = ids.xref
    t = step("cluster", t)
    keyed = records[["system", "record_id"]].astype(str)
    xref_by_record = keyed.merge(
        xref[["system", "record_id", "xref_id"]].astype(str), on=["system", "record_id"], how="left"
    )["xref_id"]
    claims = verify_claims(records, clustering.entity, xref_by_record)
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
        candidates=len(pairs),
        pass_counts=pass_counts(pairs),
        model=model.to_dict(),
        timings=timings,
    )


def run_match(inputs: Inputs, out_dir: Path, progress: Progress | None = None) -> MatchRun:
    """Load, then match; write the load outputs and the matcher's files."""
    from recon.report.match_outputs import write_match_outputs

    started = time.perf_counter()
    loaded = load_all(inputs, progress)
    result = match(loaded)
    files = write_load_outputs(loaded, out_dir) + write_match_outputs(result, out_dir)
    seconds = time.perf_counter() - started
    return MatchRun(loaded, result, out_dir, tuple(files), seconds)
