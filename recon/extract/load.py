"""Load each configured table into the canonical model, quarantining rows that cannot be used.

Per table: read raw text chunks (CSV, Excel or SQL) → map vendor headers with the preset → parse
ids, amounts, dates and booleans for the whole column at once (so detection of decimal commas and
day/month order sees every value) → quarantine bad rows with their reason → drop repeated ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from recon.config.load import Inputs
from recon.config.models import CsvOptions, DateOptions, TableSource
from recon.errors import SourceError
from recon.extract import parse
from recon.extract.files import read_csv_chunks, read_excel_chunks
from recon.extract.presets import apply_preset, load_preset
from recon.models import QUARANTINE_COLUMNS, LoadResult, TableLoad, empty_quarantine
from recon.schema import DTYPES, FEATURES_NEEDING, TABLES, TableSpec

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]
DEFAULT_WON_STAGES = ("closedwon", "Closed Won", "won", "Won")
LOAD_THREADS = 2
# Rows per chunk mapped and checked at once: large, since each chunk costs a pass of pandas calls;
# a table is whole in memory after loading anyway.
CSV_CHUNK_ROWS = 1_000_000


M = TypeVar("M", bound=BaseModel)


def _merged(model_cls: type[M], *layers: BaseModel) -> M:
    """Settings given explicitly in a later layer win over earlier ones; defaults never override."""
    values: dict[str, object] = {}
    for layer in layers:
        values.update({k: getattr(layer, k) for k in layer.model_fields_set})
    return model_cls(**values)


def _raw_chunks(
    name: str, source: TableSource, base_dir: Path, csv_options: CsvOptions, notes: list[str]
) -> tuple[str, str, Iterator[pd.DataFrame]]:
    """(label for messages, kind of source, iterator of raw chunks); readers add to ``notes``."""
    if source.sql is not None:
        from recon.extract.sql import read_sql_chunks  # SQLAlchemy drivers only when needed

        label = f"{_masked(source.sql.url)} {source.sql.table or 'query'}"
        return label, "sql", read_sql_chunks(source.sql, label=name)
    assert source.file is not None
    path = Path(source.file)
    if not path.is_absolute():
        path = base_dir / path
    label = str(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return label, "excel", read_excel_chunks(path, source.sheet, notes=notes)
    if suffix == ".xls":
        raise SourceError(f"{path}: old .xls workbooks are not supported; save it as .xlsx or .csv")
    return label, "csv", read_csv_chunks(path, csv_options, chunk_rows=CSV_CHUNK_ROWS, notes=notes)


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return "sql"


def load_table(
    name: str,
    source: TableSource,
    inputs: Inputs,
    progress: Progress | None = None,
) -> TableLoad:
    spec = TABLES[name]
    config = inputs.config
    preset = load_preset(source.preset, name)
    csv_options = _merged(CsvOptions, config.csv, preset.csv, source.csv)
    date_options = _merged(DateOptions, config.dates, preset.dates, source.dates)
    read_notes: list[str] = []
    label, kind, chunks = _raw_chunks(name, source, inputs.base_dir, csv_options, read_notes)

    mapped_parts: list[pd.DataFrame] = []
    missing_optional: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    try:
        for raw in chunks:
            errors = raw.pop("_error") if "_error" in raw.columns else None
            mapped = apply_preset(raw, preset, source.columns, source=label)
            frame = mapped.frame
            frame["_error"] = (
                pd.array(errors.to_numpy(), dtype="string")
                if errors is not None
                else pd.array(pa.nulls(len(frame), pa.large_string()), dtype="string")
            )
            mapped_parts.append(frame)
            missing_optional, unused = mapped.missing_optional, mapped.unused_columns
            if progress:
                progress(name, len(frame))
    except SourceError as exc:
        if str(exc).startswith((label, f"{name}: ")):
            raise
        raise SourceError(f"{label}: {exc}") from exc
    text = pd.concat(mapped_parts, ignore_index=True) if mapped_parts else None
    if text is None:
        raise SourceError(f"{label}: no header row found")
    if text["_error"].notna().any():
        # Rows with too many fields are read after the others: put them back in file order.
        text = text.sort_values("_row", kind="stable", ignore_index=True)
    log.info("%s: %d rows read from %s", name, len(text), label)

    frame, quarantine, notes = _parse_table(
        text,
        spec,
        label,
        label if kind == "sql" else Path(label).name,
        csv_options,
        date_options,
        kind,
    )
    if unused:
        log.debug("%s: columns not used: %s", label, ", ".join(unused))
    skipped = tuple(
        FEATURES_NEEDING[(name, c)] for c in missing_optional if (name, c) in FEATURES_NEEDING
    )
    return TableLoad(
        name=name,
        source=label,
        preset=preset.name,
        frame=frame,
        quarantine=quarantine,
        rows_read=len(text),
        missing_optional=missing_optional,
        skipped_features=skipped,
        notes=(*read_notes, *notes),
        won_stages=preset.won_stages,
        cancelled_statuses=preset.cancelled_statuses,
    )


def _parse_table(
    text: pd.DataFrame,
    spec: TableSpec,
    label: str,
    where: str,
    csv_options: CsvOptions,
    date_options: DateOptions,
    kind: str,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Typed frame of usable rows, quarantine of the rest, and detection notes.

    ``label`` names the source in the quarantine; ``where`` (the file name) in the notes.
    """
    out: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    notes: list[str] = []
    decimal = "." if kind == "sql" else csv_options.decimal
    # A row with too many fields is reported once as malformed, not again per shifted value.
    malformed = text["_error"].notna()
    currency = text[spec.amount_currency] if spec.amount_currency else None

    for column in spec.columns:
        values = text[column.name]
        if column.kind == "id":
            parsed = parse.parse_ids(values)
        elif column.kind == "amount":
            parsed = parse.parse_amounts(values, decimal=decimal, currency=currency)
        elif column.kind == "date":
            parsed = parse.parse_dates(
                values,
                order=date_options.order,
                formats=date_options.formats,
                excel_serial=(kind == "excel"),
            )
        elif column.kind == "bool":
            parsed = parse.parse_bools(values)
        else:
            parsed = None
        if parsed is None:
            typed = values.str.strip()
            typed = typed.mask(typed == "")
            bad = pd.Series(False, index=values.index)
        else:
            typed, bad = parsed.values, parsed.bad.fillna(False).astype(bool) & ~malformed
            if parsed.note:
                notes.append(f"{where} {column.name}: {parsed.note}")
            if bad.any():
                problems.append(
                    _problem_rows(text, bad, column.name, f"bad {column.kind}", parsed.reason)
                )
        if column.needs_header:
            blank = typed.isna() & ~bad & ~malformed
            if blank.any():
                n = int(blank.sum())
                notes.append(
                    f"{where} {column.name}: {n} row{'s' if n > 1 else ''} with no "
                    f"{column.name} kept, {column.name} missing (e.g. row {_first_row(text, blank)})"
                )
        if column.required:
            empty = typed.isna() & ~bad & ~malformed
            if empty.any():
                reason = pd.Series(f"{column.name} is empty", index=text.index, dtype="string")
                problems.append(
                    _problem_rows(text, empty, column.name, f"empty {column.name}", reason)
                )
        out[column.name] = typed.astype(DTYPES[column.kind])

    if malformed.any():
        first = int(np.flatnonzero(malformed.to_numpy())[0])
        more = int(malformed.sum()) - 1
        notes.append(
            f"{where} {text['_error'].iloc[first]} — row quarantined"
            + (f" (and {more} more rows with too many fields)" if more else "")
        )
        problems.append(
            _problem_rows(text, malformed, "", "malformed row", text["_error"].astype("string"))
        )

    frame = pd.DataFrame(out, index=text.index)
    frame["source_row"] = text["_row"].astype("int64")
    bad_rows = np.zeros(len(text), dtype=bool)
    for p in problems:
        bad_rows[p["_pos"].to_numpy()] = True

    if spec.key:
        dup_parts = _duplicates(frame, spec.key, bad_rows, text)
        if dup_parts is not None:
            problems.append(dup_parts)
            bad_rows[dup_parts["_pos"].to_numpy()] = True

    kept = frame.loc[~bad_rows].reset_index(drop=True)
    if problems:
        quarantine = pd.concat(problems, ignore_index=True).sort_values(["_pos", "column"])
        quarantine = quarantine.drop(columns="_pos").reset_index(drop=True)
        quarantine.insert(0, "source", label)
        quarantine.insert(0, "table", spec.name)
        quarantine = quarantine[QUARANTINE_COLUMNS]
    else:
        quarantine = empty_quarantine()
    return kept, quarantine, notes


def _first_row(text: pd.DataFrame, mask: pd.Series) -> int:
    return int(text["_row"].iloc[int(np.flatnonzero(mask.to_numpy())[0])])


def _records_json(text: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """The whole source row as JSON text, so a quarantined row is never lost."""
    rows = text.loc[mask].drop(columns=["_error"])
    if rows.empty:
        return pd.Series([], dtype="string")
    lines = rows.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    return pd.Series(lines, index=rows.index, dtype="string")


def _problem_rows(
    text: pd.DataFrame, mask: pd.Series, column: str, kind: str, reason: pd.Series
) -> pd.DataFrame:
    mask = mask.to_numpy(dtype=bool)
    positions = np.flatnonzero(mask)
    value = (
        text[column].iloc[positions].to_numpy()
        if column
        else np.full(len(positions), pd.NA, dtype=object)
    )
    return pd.DataFrame(
        {
            "_pos": positions,
            "row": text["_row"].iloc[positions].to_numpy(),
            "column": column,
            "value": pd.array(value, dtype="string"),
            "reason_kind": kind,
            "reason": pd.array(reason.iloc[positions].to_numpy(), dtype="string"),
            "record": _records_json(text, pd.Series(mask, index=text.index)).to_numpy(),
        }
    ).astype({"row": "Int64"})


def _duplicates(
    frame: pd.DataFrame, key: str, bad_rows: np.ndarray, text: pd.DataFrame
) -> pd.DataFrame | None:
    """Later rows repeating an id already used by a good row are quarantined, naming the first."""
    good = np.flatnonzero(~bad_rows)  # positions of the rows whose ids are compared
    ids = pa.array(frame[key], pa.large_string()).take(pa.array(good))
    # Dictionary codes number the distinct ids 0, 1, ... in order of first use, so an id is new
    # exactly where its code passes every code before it.
    codes = np.asarray(pc.fill_null(pc.dictionary_encode(ids).indices, -1).to_numpy())
    before = np.concatenate([[-1], np.maximum.accumulate(codes)[:-1]])
    new = codes > before
    later = np.flatnonzero((codes >= 0) & ~new)
    if not len(later):
        return None
    first = np.flatnonzero(new)  # first[c]: where code c is first used
    rows = frame["source_row"].to_numpy()
    positions = good[later]
    used = pd.Series(rows[good[first[codes[later]]]]).astype("string")
    said = f"duplicate {key} '" + frame[key].iloc[positions].astype("string").reset_index(drop=True)
    reason = pd.Series(pd.array(pa.nulls(len(frame), pa.large_string()), dtype="string"))
    reason.iloc[positions] = (said + "' (first used on row " + used + ")").to_numpy()
    dup = pd.Series(np.zeros(len(frame), dtype=bool), index=frame.index)
    dup.iloc[positions] = True
    return _problem_rows(text, dup, key, f"duplicate {key}", reason.set_axis(frame.index))


def load_all(
    inputs: Inputs, progress: Progress | None = None, only: Collection[str] | None = None
) -> LoadResult:
    """Load every configured table (or the ``only`` ones a command needs); check cross-table
    references; settle the won stages."""
    wanted = [(n, s) for n, s in inputs.config.tables.items() if only is None or n in only]
    # Tables load side by side: reading and Arrow's kernels release the GIL.
    with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
        futures = [pool.submit(load_table, n, s, inputs, progress) for n, s in wanted]
        try:
            tables = {
                name: future.result() for (name, _), future in zip(wanted, futures, strict=True)
            }
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    config = inputs.config
    deals = tables.get("crm_deals")
    won = config.won_stages or (deals.won_stages if deals and deals.won_stages else None)
    return LoadResult(
        tables=tables,
        base_currency=config.base_currency.upper(),
        won_stages=tuple(won or DEFAULT_WON_STAGES),
        notes=(*inputs.notes, *reference_notes(tables)),
    )


def reference_notes(tables: dict[str, TableLoad]) -> list[str]:
    """Rows whose foreign key names no loaded record: kept, but said in the summary."""
    checks = [
        ("crm_deals", "company_id", "crm_companies", "company_id"),
        ("erp_orders", "customer_id", "erp_customers", "customer_id"),
        ("erp_invoices", "customer_id", "erp_customers", "customer_id"),
        ("erp_invoices", "order_id", "erp_orders", "order_id"),
    ]
    notes = []
    for child, fk, parent, key in checks:
        if child not in tables or parent not in tables:
            continue
        values = pa.array(tables[child].frame[fk], pa.string())
        known = pa.array(tables[parent].frame[key], pa.string())
        # Arrow's hash lookup: pandas' isin on Arrow strings goes through Python objects
        unknown = pc.sum(pc.invert(pc.is_in(values, value_set=known, skip_nulls=True))).as_py()
        unknown = (unknown or 0) - values.null_count
        if unknown:
            notes.append(f"{unknown} {child} rows name a {fk} that is not in {parent}")
    return notes
