"""Bad input files: `recon load` never crashes and never loses a row in silence.

One case per row of :data:`CASES`: how a clean sample export is spoiled, the exit code `recon load`
must give, a fragment of what it must say, and a check of what was kept and quarantined. Every
case is spoiled from the same generated folder, so the differences are the ones written here.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.sampledata import generate, write

runner = CliRunner()
SECRET = "RECON_TEST_SECRET=hunter2"  # what a file of environment variables would give away


@dataclass(frozen=True)
class Loaded:
    """What `recon load` wrote: the summary per table, the kept rows, the quarantine."""

    summary: pd.DataFrame  # indexed by table
    kept: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame

    def rows_kept(self, table: str) -> int:
        return int(self.summary.loc[table, "rows_kept"])

    def notes(self, table: str) -> str:
        value = self.summary.loc[table, "notes"]
        return "" if pd.isna(value) else str(value)

    def quarantined(self, table: str) -> pd.DataFrame:
        return self.quarantine[self.quarantine["table"] == table]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    write(generate(80, seed=7), folder)
    for truth in folder.glob("truth_*"):
        truth.unlink()
    return folder


def run_load(args: list[str], out: Path) -> tuple[int, str, Loaded | None]:
    result = runner.invoke(app, ["load", *args, "--out", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if result.exit_code != 0:
        return result.exit_code, result.output, None
    summary = pd.read_csv(out / "load_summary.csv", dtype={"notes": "string"}).set_index("table")
    kept = {
        p.stem: pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in (out / "canonical").glob("*.csv")
    }
    quarantine = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    return 0, result.output, Loaded(summary, kept, quarantine)


@pytest.fixture(scope="module")
def baseline(clean: Path, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    code, output, loaded = run_load([str(clean)], tmp_path_factory.mktemp("out"))
    assert code == 0, output
    assert loaded is not None
    return loaded


# --- how the clean folder is spoiled -------------------------------------------------------------


def lines(folder: Path, table: str) -> list[str]:
    return (folder / f"{table}.csv").read_text(encoding="utf-8").splitlines()


def put_lines(folder: Path, table: str, text: list[str]) -> None:
    (folder / f"{table}.csv").write_text("\n".join(text) + "\n", encoding="utf-8")


def extra_fields(table: str, row: int, extra: str) -> Callable[[Path], list[str]]:
    """Row ``row`` (as a spreadsheet numbers it: the header is row 1) gets ``extra`` appended."""

    def spoil(folder: Path) -> list[str]:
        text = lines(folder, table)
        text[row - 1] += extra
        put_lines(folder, table, text)
        return [str(folder)]

    return spoil


def trailing_comma(folder: Path) -> list[str]:
    text = lines(folder, "crm_companies")
    put_lines(folder, "crm_companies", [text[0]] + [line + "," for line in text[1:]])
    return [str(folder)]


def trailing_comma_and_shifted_row(folder: Path) -> list[str]:
    text = lines(folder, "crm_companies")
    text = [text[0]] + [line + "," for line in text[1:]]
    text[9] += "oops"  # row 10: the extra field is not empty
    put_lines(folder, "crm_companies", text)
    return [str(folder)]


def environment_file(folder: Path) -> list[str]:
    (folder / "erp_customers.csv").write_bytes(f"{SECRET}\0PATH=/usr/bin\0HOME=/root\0".encode())
    return [str(folder)]


def proc_environ(folder: Path) -> list[str]:
    (folder / "erp_customers.csv").unlink()
    (folder / "erp_customers.csv").symlink_to("/proc/self/environ")
    return [str(folder)]


def binary_file(folder: Path) -> list[str]:
    (folder / "erp_customers.csv").write_bytes(bytes(range(256)) * 64)
    return [str(folder)]


def wide_wrong_header(folder: Path) -> list[str]:
    """A customers file whose header is real but lacks customer_id, with 30 very long names."""
    text = lines(folder, "erp_customers")
    names = text[0].split(",")
    names[0] = "kunden_nr"
    long = [f"custom_field_{i}_" + "x" * 60 for i in range(30)]
    rows = [line + "," * len(long) for line in text[1:]]
    put_lines(folder, "erp_customers", [",".join(names + long), *rows])
    return [str(folder)]


def duplicate_header(folder: Path) -> list[str]:
    text = lines(folder, "erp_customers")
    text[0] = text[0].replace("city", "name")
    put_lines(folder, "erp_customers", text)
    return [str(folder)]


def optional_is_folder(folder: Path) -> list[str]:
    (folder / "erp_invoices.csv").unlink()
    (folder / "erp_invoices.csv").mkdir()
    return [str(folder)]


def optional_is_looping_link(folder: Path) -> list[str]:
    (folder / "erp_invoices.csv").unlink()
    (folder / "erp_invoices.csv").symlink_to("erp_invoices.csv")
    return [str(folder)]


def required_is_folder(folder: Path) -> list[str]:
    (folder / "crm_deals.csv").unlink()
    (folder / "crm_deals.csv").mkdir()
    return [str(folder)]


def rupiah_thousands(folder: Path) -> list[str]:
    """Deal row 2 becomes 'Rp 1.000' in IDR; the other deals show '.' as the decimal mark."""
    deals = pd.read_csv(folder / "crm_deals.csv", dtype=str, keep_default_na=False)
    deals.loc[0, ["amount", "currency"]] = ["Rp 1.000", "IDR"]
    deals.loc[1, ["amount", "currency"]] = ["1.000", "IDR"]
    deals.to_csv(folder / "crm_deals.csv", index=False)
    return [str(folder)]


def deals_without_amount(folder: Path) -> list[str]:
    deals = pd.read_csv(folder / "crm_deals.csv", dtype=str, keep_default_na=False)
    open_row = deals.index[~deals["stage"].isin(["closedwon", "closedlost"])][0]
    lost_row = deals.index[deals["stage"] == "closedlost"][0]
    won_row = deals.index[deals["stage"] == "closedwon"][0]
    deals.loc[[open_row, lost_row, won_row], "amount"] = ""
    deals.to_csv(folder / "crm_deals.csv", index=False)
    return [str(folder)]


def _companies_workbook(folder: Path, hidden_first: bool) -> Path:
    companies = pd.read_csv(folder / "crm_companies.csv", dtype=str, keep_default_na=False)
    book = openpyxl.Workbook()
    old = book.active
    old.title = "Old export"
    old.append(["company_id", "name"])
    old.append(["OLD-1", "Stale Pty Ltd"])
    if hidden_first:
        old.sheet_state = "hidden"
    sheet = book.create_sheet("Companies")
    sheet.append(list(companies.columns))
    for row in companies.itertuples(index=False):
        sheet.append(list(row))
    path = folder / "crm_companies.xlsx"
    book.save(path)
    (folder / "crm_companies.csv").unlink()
    return path


def hidden_first_sheet(folder: Path) -> list[str]:
    _companies_workbook(folder, hidden_first=True)
    return [str(folder)]


def corrupt_sheet_xml(folder: Path) -> list[str]:
    path = _companies_workbook(folder, hidden_first=True)
    damaged = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data[: len(data) // 2]  # cut off mid-element
            dst.writestr(item, data)
    damaged.replace(path)
    return [str(folder)]


def alias_bomb(folder: Path) -> list[str]:
    lines_ = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines_.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines_.append("tables:\n  crm_companies: {file: crm_companies.csv}")
    config = folder / "recon.yaml"
    config.write_text("\n".join(lines_) + "\n", encoding="utf-8")
    return ["--config", str(config)]


# --- what must come of it -------------------------------------------------------------------------


def same_as_baseline(*tables: str) -> Callable[[Loaded, Loaded], None]:
    def check(loaded: Loaded, base: Loaded) -> None:
        for table in tables:
            pd.testing.assert_frame_equal(loaded.kept[table], base.kept[table])
            assert len(loaded.quarantined(table)) == len(base.quarantined(table))

    return check


def one_malformed(table: str, row: int, fields: str) -> Callable[[Loaded, Loaded], None]:
    """Exactly one more quarantined row, the malformed one; every other row as before."""

    def check(loaded: Loaded, base: Loaded) -> None:
        q = loaded.quarantined(table)
        malformed = q[q["reason_kind"] == "malformed row"]
        assert malformed["row"].tolist() == [str(row)]
        assert malformed["reason"].iloc[0] == f"row {row}: {fields}"
        assert len(q) == len(base.quarantined(table)) + 1
        kept, before = loaded.kept[table], base.kept[table]
        expected = before[before["source_row"] != str(row)].reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, expected)

    return check


def not_leaked(loaded: Loaded | None, output: str) -> None:
    for secret in ("hunter2", "PATH=", "HOME=", "\x00", "\x01"):
        assert secret not in output


def rupiah_read_as_thousands(loaded: Loaded, base: Loaded) -> None:
    deals = loaded.kept["crm_deals"].set_index("source_row")
    assert float(deals.loc["2", "amount"]) == 1000  # was read as 1.00
    assert float(deals.loc["3", "amount"]) == 1000
    assert len(loaded.kept["crm_deals"]) == len(base.kept["crm_deals"])


def deals_kept_with_missing_amount(loaded: Loaded, base: Loaded) -> None:
    assert len(loaded.kept["crm_deals"]) == len(base.kept["crm_deals"])
    assert (loaded.kept["crm_deals"]["amount"] == "").sum() == 3
    assert len(loaded.quarantined("crm_deals")) == len(base.quarantined("crm_deals"))


def visible_sheet_read(loaded: Loaded, base: Loaded) -> None:
    assert "OLD-1" not in loaded.kept["crm_companies"]["company_id"].tolist()
    assert loaded.rows_kept("crm_companies") == base.rows_kept("crm_companies")


def invoices_not_loaded(loaded: Loaded, base: Loaded) -> None:
    assert "erp_invoices" not in loaded.summary.index
    same_as_baseline("crm_companies", "crm_deals", "erp_customers", "erp_orders")(loaded, base)


@dataclass(frozen=True)
class Case:
    name: str
    spoil: Callable[[Path], list[str]]
    exit_code: int
    says: str  # a fragment of the console output
    check: Callable[[Loaded, Loaded], None] | None = None  # for a load that went through
    check_output: Callable[[Loaded | None, str], None] | None = None


COMPANY_FIELDS = 15  # columns of the generated crm_companies.csv
ORDER_FIELDS = 7  # columns of the generated erp_orders.csv

CASES = [
    Case(
        "three extra fields on the first company row",
        extra_fields("crm_companies", 2, ",x,y,z"),
        0,
        f"crm_companies.csv row 2: {COMPANY_FIELDS + 3} fields where the header has "
        f"{COMPANY_FIELDS} — row quarantined",
        one_malformed("crm_companies", 2, f"{COMPANY_FIELDS + 3} fields where the header has 15"),
    ),
    Case(
        "one extra field on the first order row",
        extra_fields("erp_orders", 2, ",extra"),
        0,
        f"erp_orders.csv row 2: {ORDER_FIELDS + 1} fields where the header has {ORDER_FIELDS}",
        one_malformed("erp_orders", 2, f"{ORDER_FIELDS + 1} fields where the header has 7"),
    ),
    Case(
        "one extra field deep in the orders",
        extra_fields("erp_orders", 40, ",extra"),
        0,
        "erp_orders.csv row 40: 8 fields",
        one_malformed("erp_orders", 40, f"{ORDER_FIELDS + 1} fields where the header has 7"),
    ),
    Case(
        "a trailing comma on every company row",
        trailing_comma,
        0,
        "every line ends with the delimiter",
        same_as_baseline("crm_companies", "crm_deals"),
    ),
    Case(
        "a trailing comma on every row, and one row with a value after it",
        trailing_comma_and_shifted_row,
        0,
        f"crm_companies.csv row 10: {COMPANY_FIELDS + 1} fields where the header has",
        one_malformed("crm_companies", 10, f"{COMPANY_FIELDS + 1} fields where the header has 15"),
    ),
    Case(
        "a file of environment variables as the customers",
        environment_file,
        2,
        "no header recon recognises",
        check_output=not_leaked,
    ),
    Case(
        "/proc/self/environ as the customers",
        proc_environ,
        2,
        "no header recon recognises",
        check_output=not_leaked,
    ),
    Case("a binary file as the customers", binary_file, 2, "erp_customers.csv", None, not_leaked),
    Case(
        "a header without customer_id and 30 long extra names",
        wide_wrong_header,
        2,
        "columns found: kunden_nr, name,",
        check_output=lambda _, output: (
            None
            if "x" * 40 not in output and "custom_field_10" not in output and "and " in output
            else pytest.fail(f"columns found not cut short: {output}")
        ),
    ),
    Case(
        "the customers header names 'name' twice",
        duplicate_header,
        2,
        "column 'name' appears twice in the header row",
    ),
    Case(
        "the optional invoices file is a folder",
        optional_is_folder,
        0,
        "erp_invoices.csv is a folder, not a data file; erp_invoices was not loaded",
        invoices_not_loaded,
    ),
    Case(
        "the optional invoices file is a link to itself",
        optional_is_looping_link,
        0,
        "erp_invoices.csv is a symbolic link that leads to no file",
        invoices_not_loaded,
    ),
    Case(
        "the required deals file is a folder",
        required_is_folder,
        2,
        "crm_deals.csv: is a folder, not a data file; crm_deals is required",
    ),
    Case(
        "Rp 1.000 among amounts with decimal points",
        rupiah_thousands,
        0,
        "crm_deals: crm_deals.csv amount: 2 amounts in a currency without minor units read with "
        "'.' as the thousands separator (e.g. 'Rp 1.000' is 1000)",
        rupiah_read_as_thousands,
    ),
    Case(
        "an open, a lost and a won deal without an amount",
        deals_without_amount,
        0,
        "crm_deals.csv amount: 3 rows with no amount kept",
        deals_kept_with_missing_amount,
    ),
    Case(
        "companies in a workbook whose first sheet is hidden",
        hidden_first_sheet,
        0,
        "crm_companies.xlsx: sheet 'Companies' read (the first visible sheet; hidden sheets "
        "skipped: 'Old export')",
        visible_sheet_read,
    ),
    Case(
        "companies in a workbook with a damaged sheet",
        corrupt_sheet_xml,
        2,
        "crm_companies.xlsx: sheet 'Companies' cannot be read; the workbook is damaged",
    ),
    Case("a recon.yaml that is an alias bomb", alias_bomb, 2, "recon.yaml: refused"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_file(case: Case, clean: Path, baseline: Loaded, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(clean, folder, symlinks=True)
    args = case.spoil(folder)
    code, output, loaded = run_load(args, tmp_path / "out")
    flat = " ".join(output.split())  # the console wraps long lines
    assert code == case.exit_code, output
    assert " ".join(case.says.split()) in flat, output
    assert "Traceback" not in output
    if case.exit_code == 0:
        assert loaded is not None
        if case.check is not None:
            case.check(loaded, baseline)
    else:
        assert output.count("error:") == 1, output
    if case.check_output is not None:
        case.check_output(loaded, output)


def test_proc_environ_is_readable_here() -> None:
    """The /proc/self/environ case means something only where that file exists."""
    assert os.path.exists("/proc/self/environ")
