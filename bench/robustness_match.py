"""Matcher precision and recall across the ways systems name companies (issue 16).

    python bench/robustness_match.py --entities 20000                 # every point
    python bench/robustness_match.py --entities 20000 --points baseline,short-names --seed 2

Each point is one set of name habits of the sample-data generator (``recon.sampledata.
name_habits``: legal forms written out, one letter wrong, duplicate markers, companies named
after their domain, short names, trading and trade names, branches of a group sharing a domain,
companies at one address). For each, the data is generated into
bench/out/robust-match-<point>-<entities>-<seed>/ (kept, and made again only when its habits
differ), loaded, matched (``recon.pipeline.match``) and scored against truth_entities.csv with
bench/accuracy.py's ``entity_scores``: cross-system pairs (CRM company ↔ ERP customer) and
duplicate pairs, precision, recall and F1. The table shows one row per point and the worst point
per column; bench/out/robustness-match-<entities>.json holds everything, with examples of missed
and false pairs per point. Every point has the same records in the same entities (the habits
move only names and the fields that tie them), so an error the baseline did not make is the
point's habits' doing: those come first among the examples, and are counted as new errors.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import entity_scores, pairs_within_groups, record_key, split_cross, truth_pairs
from scoring import OUT, sweep_args, write_points

EXAMPLES = 6  # missed and false pairs shown per point
NAME_SHARE = 0.3  # of the records or entities a name habit applies to
GROUP_SHARE = 0.03  # of the entities in branch groups, or at a shared address


@dataclass(frozen=True)
class Point:
    name: str
    what: str
    names: dict[str, float] = field(default_factory=dict)


ALL = {
    "legal_form_spelled": NAME_SHARE,
    "one_letter": NAME_SHARE,
    "dup_markers": NAME_SHARE,
    "domain_names": NAME_SHARE,
    "short_names": NAME_SHARE,
    "trading_names": NAME_SHARE,
    "trade_names": NAME_SHARE,
    "group_branches": GROUP_SHARE,
    "shared_address": GROUP_SHARE,
}
POINTS = (
    Point("baseline", "the generator's own naming"),
    Point("legal-spelled", "30% of ERP names: LEGAL FORM WRITTEN OUT", {"legal_form_spelled": 0.3}),
    Point("one-letter", "30% of linked entities: CRM name one letter off", {"one_letter": 0.3}),
    Point("dup-markers", "30% of ERP duplicates: (OLD), ZZ, *DUPLICATE*...", {"dup_markers": 0.3}),
    Point("domain-names", "30% of CRM companies named after the domain", {"domain_names": 0.3}),
    Point("short-names", "30% of CRM names: the first word only", {"short_names": 0.3}),
    Point("trading-names", "30% of linked entities: ERP 'Owner Pty Ltd T/A Name'", {"trading_names": 0.3}),
    Point("trade-names", "30% of linked entities: CRM trade name, tied by domain+phone", {"trade_names": 0.3}),
    Point("group-branches", "3% of entities: branches sharing the group's domain", {"group_branches": 0.03}),
    Point("shared-address", "3% of entities: companies at one street address", {"shared_address": 0.03}),
    Point("all-together", "every name habit above at once", ALL),
)  # fmt: skip


def generator_version() -> str:
    """A digest of the generator's source: its data is made again when the generator changes."""
    import recon.sampledata

    folder = Path(recon.sampledata.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_data(point: Point, entities: int, seed: int) -> tuple[Path, float]:
    """The point's generated folder, made unless it holds these habits already, written by this
    generator; seconds taken."""
    from recon.sampledata import generate, write
    from recon.sampledata.name_habits import name_habits_of

    data = OUT / f"robust-match-{point.name}-{entities}-{seed}"
    habits = name_habits_of(point.names)
    meta_file, stamp = data / "truth_meta.json", data / ".generator"
    version = generator_version()
    if meta_file.exists() and stamp.exists() and stamp.read_text() == version:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        knobs = {k: v for k, v in meta.get("name_habits", {}).items() if k != "counts"}
        same = (meta["entities"], meta["seed"]) == (entities, seed) and "habits" not in meta
        if same and (knobs or None) == (None if habits.default else asdict(habits)):
            return data, 0.0
    if data.exists():
        shutil.rmtree(data)
    t0 = time.perf_counter()
    write(generate(entities, seed, names=habits), data)
    stamp.write_text(version)
    return data, time.perf_counter() - t0


def _names(data: Path) -> pd.Series:
    """Name by "system:record_id"."""
    out = []
    for table, system, id_col in (
        ("crm_companies", "crm", "company_id"),
        ("erp_customers", "erp", "customer_id"),
    ):
        frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
        out.append(pd.Series(frame["name"].to_numpy(), index=system + ":" + frame[id_col]))
    names = pd.concat(out)
    return names[~names.index.duplicated()]


def _examples(
    pairs: pd.MultiIndex, names: pd.Series, before: pd.MultiIndex | None, k: int
) -> list[list[Any]]:
    """Up to ``k`` pairs as [key a, name a, key b, name b, new], those the baseline got right
    (not in ``before``, its errors of the kind) first."""
    if not len(pairs):
        return []
    a, b = pairs.get_level_values(0), pairs.get_level_values(1)
    frame = pd.DataFrame({"a": a, "b": b, "name_a": a.map(names), "name_b": b.map(names)})
    frame["new"] = True if before is None else ~pairs.isin(before)
    frame = frame.sort_values("new", ascending=False, kind="stable").head(k)
    return [[r.a, str(r.name_a), r.b, str(r.name_b), bool(r.new)] for r in frame.itertuples()]


def score_point(
    point: Point, entities: int, seed: int, baseline: dict[str, pd.MultiIndex] | None
) -> tuple[dict[str, Any], dict[str, pd.MultiIndex]]:
    """The point's row, and its wrong pairs by kind (missed_cross, false_cross, ...)."""
    from recon import pipeline
    from recon.config.load import folder_config
    from recon.extract.load import load_all

    data, gen_s = ensure_data(point, entities, seed)
    t0 = time.perf_counter()
    loaded = load_all(folder_config(data))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = pipeline.match(loaded)
    match_s = time.perf_counter() - t0
    predicted = result.records[["system", "record_id"]].assign(entity=result.entity.to_numpy())
    truth = pd.read_csv(data / "truth_entities.csv", dtype=str)
    scores = entity_scores(predicted, truth)
    pred = split_cross(
        pairs_within_groups(
            record_key(predicted["system"], predicted["record_id"]), predicted["entity"].astype(str)
        )
    )
    true = split_cross(truth_pairs(truth))
    wrong: dict[str, pd.MultiIndex] = {}
    for i, label in enumerate(("cross", "duplicates")):
        wrong[f"missed_{label}"] = true[i].difference(pred[i])
        wrong[f"false_{label}"] = pred[i].difference(true[i])
    names = _names(data)
    # every point has the same records in the same entities (only names and the fields that
    # tie them move), so an error the baseline did not make is the point's habits' doing
    examples, new = {}, {}
    for kind, pairs in wrong.items():
        before = None if baseline is None else baseline[kind]
        examples[kind] = _examples(pairs, names, before, EXAMPLES)
        new[kind] = len(pairs) if before is None else int((~pairs.isin(before)).sum())
    meta = json.loads((data / "truth_meta.json").read_text(encoding="utf-8"))
    row = {
        "name": point.name,
        "what": point.what,
        "names": point.names,
        "data": str(data),
        "scores": {k: asdict(v) for k, v in scores.items()},
        "errors": {k: len(v) for k, v in wrong.items()},
        "new_errors": new,
        "planted": meta.get("name_habits", {}).get("counts", {}),
        "examples": examples,
        "seconds": {"generate": gen_s, "load": load_s, "match": match_s},
    }
    return row, wrong


COLUMNS = [(s, m) for s in ("cross", "duplicates") for m in ("precision", "recall", "f1")]


def print_table(rows: list[dict[str, Any]]) -> None:
    """Scores per point; "new" counts the missed / false pairs the baseline got right."""
    print(f"{'':<16} {'cross':^20}  {'duplicates':^20}  {'new missed/false':^17}")
    print(
        f"{'point':<16} {'P':>6} {'R':>6} {'F1':>6}  {'P':>6} {'R':>6} {'F1':>6}  "
        f"{'cross':>8} {'dup':>8}  {'match s':>7}"
    )
    for r in rows:
        s, n = r["scores"], r["new_errors"]
        cells = " ".join(f"{s['cross'][m]:.3f}" for m in ("precision", "recall", "f1"))
        dups = " ".join(f"{s['duplicates'][m]:.3f}" for m in ("precision", "recall", "f1"))
        new = f"{n['missed_cross']:>3}/{n['false_cross']:<4} {n['missed_duplicates']:>3}/"
        new += f"{n['false_duplicates']:<4}"
        print(f"{r['name']:<16} {cells}  {dups}  {new}  {r['seconds']['match']:>7.0f}")
    print("\nworst point per column:")
    for side, measure in COLUMNS:
        worst = min(rows, key=lambda r, s=side, m=measure: r["scores"][s][m])
        s = worst["scores"][side]
        print(
            f"  {side:>10} {measure:<9} {s[measure]:.4f}  {worst['name']} "
            f"(true pairs {s['true_pairs']}, predicted {s['predicted_pairs']})"
        )


def print_examples(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        for kind in ("missed_cross", "false_cross", "missed_duplicates", "false_duplicates"):
            shown = r["examples"][kind][:3]
            if not shown:
                continue
            print(f"  {r['name']} — {kind.replace('_', ' ')}:")
            for _a, name_a, _b, name_b, new in shown:
                mark = "*" if new and r["name"] != "baseline" else " "
                print(f"    {mark} {name_a!r}  ↔  {name_b!r}")


def main(argv: list[str] | None = None) -> int:
    by_name = {p.name: p for p in POINTS}
    args, names = sweep_args(argv, __doc__, by_name)
    # the baseline first: a point's examples show the errors the baseline did not make first
    order = ["baseline", *(n for n in names if n != "baseline")]
    baseline = None
    rows = []
    for name in order:
        t0 = time.perf_counter()
        row, wrong = score_point(by_name[name], args.entities, args.seed, baseline)
        baseline = wrong if baseline is None else baseline
        if name not in names:
            continue
        row["seconds"]["total"] = time.perf_counter() - t0
        rows.append(row)
        sec = row["seconds"]
        print(
            f"{name}: {sec['total']:.0f} s (generate {sec['generate']:.0f}, load "
            f"{sec['load']:.0f}, match {sec['match']:.0f})",
            flush=True,
        )
    print()
    print_table(rows)
    print("\nexamples (* = a pair the baseline got right; those first):")
    print_examples(rows)
    out = OUT / f"robustness-match-{args.entities}.json"
    write_points(out, args.entities, args.seed, rows, by_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
