"""Side by side: Splink (DuckDB backend) and recon's matcher on the same generated data.

    python bench/bench_splink.py --entities 10000 --seed 1
    python bench/bench_splink.py --entities 100000 --seed 1 --steps splink,recon,errors
    python bench/bench_splink.py --table          # the table of every bench/out/splink-*.json

Needs Splink: ``pip install -e ".[bench]"``.

Both tools see the same data: the folder the sample-data generator writes (shared with
bench/run.py, ``bench/out/data-<entities>-<seed>``), loaded and normalized by recon. Splink gets
recon's own normalized keys (``recon.match.records.build_records``: one row per CRM company and
ERP customer), cached in ``bench/out/splink-records-<entities>-<seed>.parquet``, and links and
dedupes them in one ``link_and_dedupe`` model. Its clusters are scored with bench/accuracy.py's
``entity_scores``, the function that scores recon: cross-system pairs (CRM ↔ ERP) and
within-system duplicate pairs against the truth.

Every step runs in a fresh process of its own, so its peak memory (max RSS) is its own:
  records   load the CSV files and normalize (recon's code; timed, not counted as Splink's)
  splink    Splink's own work: register, train (λ, u, m), block, predict, cluster at each
            threshold; then score (the peak before scoring is reported as well)
  recon     ``bench/run.py``'s ``stage_match``: load, normalize and match, then score
  errors    (``--steps ...,errors``) recon's match once more, its pairs set against Splink's:
            which true pairs one tool finds and the other misses, what those pairs look like and
            how recon decided them (auto, review, reject, or never proposed by its blocking)

Figures are printed and written to bench/out/splink-<entities>.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import queue as queue_module
import resource
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))

# Splink's run, in one place (the README copies these).
PREDICT_THRESHOLD = 0.5  # pairs kept by predict(); clustering reads those at or above its threshold
CLUSTER_THRESHOLDS = (0.9, 0.95, 0.99)
U_MAX_PAIRS = 1e7
# estimate_probability_two_random_records_match: the share of true matches its rules find
LAMBDA_RECALL = 0.7

# The columns of build_records that Splink compares, and one it derives for blocking.
INPUT_COLUMNS = (
    "system",
    "record_id",
    "name_core",
    "legal_form",
    "domain",
    "phone_e164",
    "tax_id_norm",
    "postcode_norm",
    "city_norm",
    "country_code",
    "address_norm",
)
DERIVED_SQL = "split_part(name_core, ' ', 1) AS name_first_token"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Splink's model ----------------------------------------------------------------------------


def splink_blocking_rules() -> list[Any]:
    """Each rule proposes the pairs that agree on its keys; predict() scores their union.

    Chosen by counting the pairs each rule makes on the records (n·(n-1)/2 per key value) so
    that a million entities (1.7 million records) stay near 100 million comparisons: the first
    word of a name alone would make 2 billion, so it is paired with the city."""
    from splink import block_on

    return [
        block_on("domain"),
        block_on("phone_e164"),
        block_on("tax_id_norm"),
        block_on("postcode_norm", "substr(name_core, 1, 3)"),
        block_on("name_core"),
        block_on("name_first_token", "city_norm"),
    ]


def splink_settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_and_dedupe",
        unique_id_column_name="record_id",
        source_dataset_column_name="system",
        blocking_rules_to_generate_predictions=splink_blocking_rules(),
        comparisons=[
            # null, exact (term-frequency adjusted), Jaro-Winkler >= 0.92, 0.88, 0.7, else
            cl.NameComparison("name_core"),
            cl.ExactMatch("domain").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone_e164").configure(term_frequency_adjustments=True),
            cl.ExactMatch("tax_id_norm"),
            cl.ExactMatch("postcode_norm").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("city_norm", [0.9]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("address_norm", [0.95, 0.88]),
            cl.ExactMatch("country_code"),
            cl.ExactMatch("legal_form"),
        ],
    )


def splink_training_rules() -> dict[str, list[Any]]:
    from splink import block_on

    return {
        # pairs that are almost surely matches, for the prior (λ)
        "deterministic": [
            block_on("domain", "name_core"),
            block_on("phone_e164", "name_core"),
            block_on("tax_id_norm"),
        ],
        # EM sessions: each estimates m for the comparisons its rule does not fix
        "em": [block_on("domain"), block_on("phone_e164"), block_on("name_core")],
    }


# --- steps, each run in a process of its own ---------------------------------------------------


def stage_records(data: str, records_path: str) -> dict[str, Any]:
    """Load the CSV files and normalize with recon; write the records Splink links."""
    from recon.config.load import folder_config
    from recon.extract.load import load_all
    from recon.match.records import build_records

    t0 = time.perf_counter()
    loaded = load_all(folder_config(Path(data)))
    t1 = time.perf_counter()
    companies, customers = loaded.frame("crm_companies"), loaded.frame("erp_customers")
    assert companies is not None and customers is not None
    records = build_records(companies, customers)
    t2 = time.perf_counter()
    records[list(INPUT_COLUMNS)].to_parquet(records_path, index=False)
    return {
        "load_s": t1 - t0,
        "normalize_s": t2 - t1,
        "records": len(records),
        "by_system": records["system"].astype(str).value_counts().to_dict(),
    }


def stage_splink(
    records_path: str,
    truth_path: str,
    clusters_path: str,
    model_path: str,
    seed: int,
    verbose: bool,
) -> dict[str, Any]:
    """Splink from the normalized records to clusters, timed per phase, then scored."""
    import pandas as pd
    import splink
    from accuracy import entity_scores
    from splink import DuckDBAPI, Linker

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        print(f"  splink {name}: {now - clock:.1f} s", flush=True)
        clock = now

    db_api = DuckDBAPI()
    relation = db_api.duckdb_con.read_parquet(records_path).project(
        ", ".join([*INPUT_COLUMNS, DERIVED_SQL])
    )
    records = db_api.register(relation, dataset_display_name="records")
    linker = Linker(
        records, splink_settings(), log_level=logging.INFO if verbose else logging.WARNING
    )
    step("register")

    rules = splink_training_rules()
    linker.training.estimate_probability_two_random_records_match(
        rules["deterministic"], recall=LAMBDA_RECALL
    )
    step("train_lambda")
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
    step("train_u")
    for rule in rules["em"]:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    step("train_m")

    blocked = linker.inference.compute_blocked_pairs_for_predict()
    comparisons = _count(db_api, blocked)
    step("block")
    predictions = linker.inference.predict(threshold_match_probability=PREDICT_THRESHOLD)
    predicted_pairs = _count(db_api, predictions)
    step("predict")

    labels = None
    for threshold in CLUSTER_THRESHOLDS:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        frame = (
            clusters.as_duckdbpyrelation()
            .select("system, record_id, cluster_id")
            .df()
            .rename(columns={"cluster_id": _cluster_column(threshold)})
        )
        labels = frame if labels is None else labels.merge(frame, on=["system", "record_id"])
        clusters.drop_table_from_database_and_remove_from_cache()
        step(f"cluster_{threshold}")
    assert labels is not None
    peak_before_scoring = _peak_mb()

    linker.misc.save_model_to_json(model_path, overwrite=True)
    labels.to_parquet(clusters_path, index=False)
    truth = pd.read_csv(truth_path, dtype=str)
    labels["record_id"] = labels["record_id"].astype(str)
    scores = {}
    for threshold in CLUSTER_THRESHOLDS:
        predicted = labels.rename(columns={_cluster_column(threshold): "entity"})
        result = entity_scores(predicted, truth)
        scores[str(threshold)] = {k: v.__dict__ for k, v in result.items()}
    base = sum(v for k, v in timings.items() if not k.startswith("cluster_"))
    return {
        "splink_version": splink.__version__,
        "records": len(labels),
        "timings_s": timings,
        "splink_s": {str(t): round(base + timings[f"cluster_{t}"], 3) for t in CLUSTER_THRESHOLDS},
        "comparisons": comparisons,
        "comparisons_per_record": comparisons / max(len(labels), 1),
        "predicted_pairs_at_0.5": predicted_pairs,
        "scores": scores,
        "peak_before_scoring_mb": peak_before_scoring,
    }


def _count(db_api: Any, table: Any) -> int:
    return int(
        db_api.duckdb_con.execute(f"SELECT count(*) FROM {table.physical_name}").fetchall()[0][0]
    )


def _cluster_column(threshold: float) -> str:
    return f"cluster_{threshold}"


def stage_recon(entities: int, seed: int, data: str) -> dict[str, Any]:
    from run import stage_match

    return stage_match(entities, seed, Path(data))


def stage_errors(
    data: str, records_path: str, clusters_path: str, threshold: float
) -> dict[str, Any]:
    """The true pairs one tool finds and the other misses, and the wrong pairs each makes,
    described by which fields of the two records agree."""
    import pandas as pd
    from accuracy import entity_scores, pairs_within_groups, split_cross, truth_pairs

    from recon.config.load import folder_config
    from recon.extract.load import load_all
    from recon.pipeline import match

    result = match(load_all(folder_config(Path(data))))
    recon_keys = record_key(result.records["system"], result.records["record_id"])
    recon_pairs = pairs_within_groups(recon_keys, pd.Series(result.entity.to_numpy()).astype(str))
    labels = pd.read_parquet(clusters_path)
    splink_pairs = pairs_within_groups(
        record_key(labels["system"], labels["record_id"]),
        labels[_cluster_column(threshold)].astype(str),
    )
    truth_entities = pd.read_csv(Path(data) / "truth_entities.csv", dtype=str)
    truth = truth_pairs(truth_entities)
    records = pd.read_parquet(records_path)
    records.index = record_key(records["system"], records["record_id"])

    groups = {
        "missed_by_recon_found_by_splink": truth.difference(recon_pairs).intersection(splink_pairs),
        "missed_by_splink_found_by_recon": truth.difference(splink_pairs).intersection(recon_pairs),
        "missed_by_both": truth.difference(recon_pairs).difference(splink_pairs),
        "wrong_in_recon": recon_pairs.difference(truth),
        "wrong_in_splink": splink_pairs.difference(truth),
    }
    # recon's scores in this run (the work tree may have moved since the recon step)
    predicted = pd.DataFrame(
        {
            "system": result.records["system"].astype(str),
            "record_id": result.records["record_id"].astype(str),
            "entity": result.entity.to_numpy(),
        }
    )
    scores = entity_scores(predicted, truth_entities)
    out: dict[str, Any] = {
        "threshold": threshold,
        "recon_scores": {k: v.__dict__ for k, v in scores.items()},
    }
    decisions = _recon_decisions(result.scored, recon_keys.to_numpy())
    for name, pairs in groups.items():
        cross, dup = split_cross(pairs)
        out[name] = {
            "cross": len(cross),
            "duplicates": len(dup),
            "recon_decision": _decided(pairs, decisions),
            **_describe(pairs, records),
        }
    return out


def record_key(system: Any, record_id: Any) -> Any:
    """A record's name in the pairs of accuracy.py: "crm:5000000030"."""
    return system.astype(str) + ":" + record_id.astype(str)


def _recon_decisions(scored: Any, keys: Any) -> Any:
    """recon's decision (auto, review, reject) per candidate pair, indexed by (key, key) sorted."""
    import numpy as np
    import pandas as pd

    a, b = keys[scored["left"].to_numpy()], keys[scored["right"].to_numpy()]
    index = pd.MultiIndex.from_arrays([np.minimum(a, b), np.maximum(a, b)])
    columns = {"decision": scored["decision"].astype(str).to_numpy()}
    if "decision_reason" in scored.columns:  # why clustering overrode the score, if it did
        reason = scored["decision_reason"].fillna("").astype(str)
        columns["reason"] = reason.str.replace(r"\d+", "N", regex=True).to_numpy()
    decisions = pd.DataFrame(columns, index=index)
    return decisions[~decisions.index.duplicated()]


def _decided(pairs: Any, decisions: Any) -> dict[str, Any]:
    """How recon decided these pairs; "not proposed" = its blocking never paired them (a pair
    decided "auto" and still not in one entity was split by clustering)."""
    found = decisions.reindex(pairs)
    out: dict[str, Any] = {
        str(k): int(v) for k, v in found["decision"].fillna("not proposed").value_counts().items()
    }
    if "reason" in found.columns:
        reasons = found["reason"].dropna()
        out["reasons"] = {str(k): int(v) for k, v in reasons[reasons != ""].value_counts().items()}
    return out


def _describe(pairs: Any, records: Any, top: int = 8, examples: int = 6) -> dict[str, Any]:
    """Agreement patterns of the pairs (which fields agree, differ or are missing) and examples."""
    import pandas as pd
    from rapidfuzz.distance import JaroWinkler

    if len(pairs) == 0:
        return {"patterns": {}, "examples": []}
    left = records.loc[pairs.get_level_values(0)].reset_index(drop=True)
    right = records.loc[pairs.get_level_values(1)].reset_index(drop=True)
    name_sim = [
        JaroWinkler.similarity(a, b)
        for a, b in zip(left["name_core"].astype(str), right["name_core"].astype(str), strict=True)
    ]
    fields = {
        "domain": "domain",
        "phone": "phone_e164",
        "tax": "tax_id_norm",
        "postcode": "postcode_norm",
        "address": "address_norm",
        "city": "city_norm",
    }
    parts = [
        pd.Series(
            ["name=" if s == 1 else "name~" if s >= 0.88 else "name≠" for s in name_sim],
            dtype=object,
        )
    ]
    for label, column in fields.items():
        a, b = left[column], right[column]
        missing = a.isna() | b.isna()
        same = (a == b).fillna(False).astype(bool)
        parts.append(
            pd.Series(
                [
                    "" if m else f"{label}=" if s else f"{label}≠"
                    for m, s in zip(missing, same, strict=True)
                ],
                dtype=object,
            )
        )
    kind = [
        "cross" if a != b else "dup"
        for a, b in zip(left["system"].astype(str), right["system"].astype(str), strict=True)
    ]
    pattern = pd.Series(
        [
            f"{k}: " + " ".join(p for p in row if p)
            for k, row in zip(kind, zip(*parts, strict=True), strict=True)
        ]
    )
    shown = [
        "system",
        "record_id",
        "name_core",
        "domain",
        "phone_e164",
        "postcode_norm",
        "city_norm",
    ]
    sample = [
        {
            "left": {c: _plain(left.at[i, c]) for c in shown},
            "right": {c: _plain(right.at[i, c]) for c in shown},
            "name_jaro_winkler": round(name_sim[i], 3),
        }
        for i in range(min(examples, len(left)))
    ]
    return {"patterns": pattern.value_counts().head(top).to_dict(), "examples": sample}


def _plain(value: Any) -> Any:
    import pandas as pd

    return None if pd.isna(value) else str(value)


# --- running steps in fresh processes ----------------------------------------------------------


def _child(func: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: Any) -> None:
    try:
        figures = func(*args)
        figures["peak_rss_mb"] = _peak_mb()
        queue.put(figures)
    except BaseException as exc:  # report, do not hang the parent
        queue.put({"error": repr(exc), "traceback": traceback.format_exc()})


def run_child(func: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``func(*args)`` in a fresh process; its figures plus that process's peak RSS."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(func, args, queue))
    started = time.perf_counter()
    proc.start()
    while True:
        try:
            figures = queue.get(timeout=5)
            break
        except queue_module.Empty:
            if not proc.is_alive():  # killed (out of memory, say) before it could report
                figures = {"error": f"process ended with exit code {proc.exitcode}"}
                break
    proc.join()
    figures["wall_s"] = round(time.perf_counter() - started, 3)
    # other work on the machine slows every step: the load average says how busy it was
    figures["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    if "error" in figures:
        print(figures.get("traceback", figures["error"]), file=sys.stderr, flush=True)
    return figures


def _generate(entities: int, seed: int, data: str) -> dict[str, Any]:
    from run import stage_generate

    return stage_generate(entities, seed, Path(data))


def tree_state() -> dict[str, Any]:
    """The commit measured and the files under recon/ and rules/ changed since (recon's figures
    are those of the work tree as it was when its step ran)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False
        )
        return done.stdout.rstrip()

    changed = git("status", "--porcelain", "--", "recon", "rules").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "changed": [c[3:] for c in changed]}


# --- the table ---------------------------------------------------------------------------------


HEADER = (
    "| entities | records | tool | normalize (s) | match (s) | peak MB "
    "| cross P | cross R | cross F1 | dup P | dup R | dup F1 |"
)


def table_rows(results: dict[str, Any]) -> list[str]:
    n = results["entities"]
    rows = []
    normalize = results.get("records", {}).get("normalize_s")
    recon = results.get("recon")
    if recon and "error" not in recon:
        rec_norm = recon["timings_s"].get("normalize", 0.0)
        rows.append(
            _row(
                n,
                recon["records"],
                "recon",
                rec_norm,
                recon["match_s"] - rec_norm,
                recon["peak_rss_mb"],
                recon["cross"],
                recon["duplicates"],
            )
        )
    splink = results.get("splink")
    if splink and "error" not in splink:
        best = best_threshold(splink)
        for threshold, scores in splink["scores"].items():
            tool = f"Splink {splink['splink_version']} @ {threshold}" + (
                " (best)" if threshold == best else ""
            )
            rows.append(
                _row(
                    n,
                    splink["records"],
                    tool,
                    normalize,
                    splink["splink_s"][threshold],
                    splink["peak_rss_mb"],
                    scores["cross"],
                    scores["duplicates"],
                )
            )
    return rows


def best_threshold(splink: dict[str, Any]) -> str:
    """The clustering threshold with the best F1 over all true pairs (cross and duplicates)."""

    def f1(threshold: str) -> float:
        s = splink["scores"][threshold]
        hit = sum(s[k]["precision"] * s[k]["predicted_pairs"] for k in ("cross", "duplicates"))
        predicted = sum(s[k]["predicted_pairs"] for k in ("cross", "duplicates"))
        true = sum(s[k]["true_pairs"] for k in ("cross", "duplicates"))
        p, r = hit / max(predicted, 1), hit / max(true, 1)
        return 2 * p * r / (p + r) if p + r else 0.0

    return max(splink["scores"], key=f1)


def _row(
    n: int,
    records: int,
    tool: str,
    normalize: float | None,
    seconds: float,
    peak: float,
    cross: dict[str, float],
    dup: dict[str, float],
) -> str:
    norm = f"{normalize:.1f}" if normalize is not None else "–"
    scores = " | ".join(f"{s[k]:.4f}" for s in (cross, dup) for k in ("precision", "recall", "f1"))
    return f"| {n:,} | {records:,} | {tool} | {norm} | {seconds:.1f} | {peak:,.0f} | {scores} |"


def print_table(paths: list[Path]) -> None:
    print(HEADER)
    print("|" + "---|" * 12)
    for path in paths:
        for row in table_rows(json.loads(path.read_text(encoding="utf-8"))):
            print(row)


# --- main --------------------------------------------------------------------------------------


STEPS = ("splink", "recon", "errors")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="data folder (default bench/out/data-N-seed)")
    parser.add_argument(
        "--steps",
        default="splink,recon",
        help="of splink,recon,errors; the figures of steps not run are kept from the last run",
    )
    parser.add_argument("--fresh", action="store_true", help="normalize again, ignore the cache")
    parser.add_argument("--table", action="store_true", help="print the table of all results")
    parser.add_argument("-v", "--verbose", action="store_true", help="Splink's own log lines")
    args = parser.parse_args(argv)

    if args.table:
        paths = [p for p in OUT.glob("splink-*.json") if p.stem.removeprefix("splink-").isdigit()]
        print_table(sorted(paths, key=lambda p: int(p.stem.removeprefix("splink-"))))
        return 0
    steps = args.steps.split(",")
    for step in steps:
        if step not in STEPS:
            parser.error(f"unknown step {step}; steps: {', '.join(STEPS)}")

    OUT.mkdir(parents=True, exist_ok=True)
    n, seed = args.entities, args.seed
    data = args.data or OUT / f"data-{n}-{seed}"
    path = OUT / f"splink-{n}.json"
    results: dict[str, Any] = {}
    if path.exists():
        results = json.loads(path.read_text(encoding="utf-8"))
        if results.get("seed") != seed:
            results = {}
    results.update({"entities": n, "seed": seed, "data": str(data)})

    if not data.exists():
        print(f"generating {data}", flush=True)
        results["generate"] = run_child(_generate, n, seed, str(data))

    records_path = OUT / f"splink-records-{n}-{seed}.parquet"
    records_meta = records_path.with_suffix(".json")
    if args.fresh or not (records_path.exists() and records_meta.exists()):
        figures = run_child(stage_records, str(data), str(records_path))
        if "error" in figures:
            return 1
        figures["tree"] = tree_state()
        records_meta.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    results["records"] = json.loads(records_meta.read_text(encoding="utf-8"))
    print(f"records: {json.dumps(results['records'])}", flush=True)

    clusters_path = OUT / f"splink-clusters-{n}-{seed}.parquet"
    model_path = OUT / f"splink-model-{n}-{seed}.json"
    if "splink" in steps:
        results["splink"] = run_child(
            stage_splink,
            str(records_path),
            str(data / "truth_entities.csv"),
            str(clusters_path),
            str(model_path),
            seed,
            args.verbose,
        )
        print(f"splink: {json.dumps(results['splink'], default=str)}", flush=True)

    if "recon" in steps:
        results["tree"] = tree_state()
        results["recon"] = run_child(stage_recon, n, seed, str(data))
        print(f"recon: {json.dumps(results['recon'], default=str)}", flush=True)

    splink_ok = "splink" in results and "error" not in results["splink"]
    if "errors" in steps and splink_ok:
        threshold = float(best_threshold(results["splink"]))
        results["errors"] = run_child(
            stage_errors, str(data), str(records_path), str(clusters_path), threshold
        )
        results["errors"]["tree"] = tree_state()
        print(f"errors: {json.dumps(results['errors'], ensure_ascii=False)}", flush=True)

    path.write_text(
        json.dumps(results, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"written {path}\n")
    print_table([path])
    return 0


if __name__ == "__main__":
    sys.exit(main())
