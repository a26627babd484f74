"""`recon review apply`, end to end on generated data: a reviewed pair confirmed or rejected in a
CSV or a workbook changes the next run's xref; bad rows are listed by file, sheet, row and column
and nothing is stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from recon.cli import app
from recon.match.review import decision_word
from recon.models import MATCH, NOT_A_MATCH
from recon.sampledata import generate, write
from recon.state.decisions import FILE_NAME

runner = CliRunner()

REVIEW_COLUMNS = [
    "left_system",
    "left_id",
    "left_name",
    "right_system",
    "right_id",
    "right_name",
    "score",
    "reasons",
    "decision_reason",
    "decision",
    "reviewer",
    "reviewed_on",
    "comment",
]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Generated data and a first full run over it (no decisions yet): review.csv, report.xlsx."""
    root = tmp_path_factory.mktemp("review")
    data = root / "data"
    write(generate(300, seed=42), data)
    out = root / "first"
    result = runner.invoke(app, ["run", str(data), "--out", str(out), "--state", str(root / "s")])
    assert result.exit_code == 0, result.output
    return data, out


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, dtype=str, keep_default_na=False)


def xref_of(out: Path, system: str, record_id: str) -> str:
    xref = read(out, "xref.csv")
    hit = xref.loc[(xref["system"] == system) & (xref["record_id"] == record_id), "xref_id"]
    assert len(hit) == 1
    return str(hit.iloc[0])


def to_confirm(out: Path) -> pd.Series:
    """A CRM–ERP pair the first run sent to review: confirming it must link it."""
    review = read(out, "review.csv")
    cross = review.loc[(review["left_system"] == "crm") & (review["right_system"] == "erp")]
    pair = cross.iloc[-1]
    assert xref_of(out, "crm", pair["left_id"]) != xref_of(out, "erp", pair["right_id"])
    return pair


def to_reject(out: Path) -> pd.Series:
    """A CRM–ERP pair the first run linked automatically, as a review row: rejecting it must
    separate it, however high its score."""
    matches = read(out, "matches.csv")
    auto = matches.loc[matches["decision"] == "auto"].iloc[0]
    assert float(auto["score"]) > 0.99
    assert xref_of(out, "crm", auto["crm_company_id"]) == xref_of(
        out, "erp", auto["erp_customer_id"]
    )
    row = dict.fromkeys(REVIEW_COLUMNS, "")
    row.update(
        left_system="crm",
        left_id=auto["crm_company_id"],
        left_name=auto["crm_name"],
        right_system="erp",
        right_id=auto["erp_customer_id"],
        right_name=auto["erp_name"],
        score=auto["score"],
    )
    return pd.Series(row)


def decided(pair: pd.Series, decision: str, reviewer: str = "ana", **more: str) -> dict[str, str]:
    row = {c: str(pair.get(c, "")) for c in REVIEW_COLUMNS}
    row.update(decision=decision, reviewer=reviewer, **more)
    return row


def rerun(data: Path, state: Path, out: Path) -> str:
    result = runner.invoke(app, ["match", str(data), "--out", str(out), "--state", str(state)])
    assert result.exit_code == 0, result.output
    return result.output


def test_csv_round_trip_confirm_links_and_reject_separates(
    base: tuple[Path, Path], tmp_path: Path
) -> None:
    data, first = base
    confirm, reject = to_confirm(first), to_reject(first)
    # The reviewer edits review.csv: one decision on a listed pair, one on an added row; the
    # other listed rows stay undecided.
    review = read(first, "review.csv")
    key = (review["left_id"] == confirm["left_id"]) & (review["right_id"] == confirm["right_id"])
    review.loc[key, ["decision", "reviewer", "reviewed_on"]] = [" Match ", "ana", "2026-11-03"]
    review = pd.concat([review, pd.DataFrame([decided(reject, "Not a match", comment="other")])])
    reviewed = tmp_path / "reviewed.csv"
    review.to_csv(reviewed, index=False)
    state = tmp_path / "state"

    result = runner.invoke(
        app, ["review", "apply", str(reviewed), str(data), "--state", str(state)]
    )
    assert result.exit_code == 0, result.output
    assert "stored 2 decision(s) (1 match, 1 not a match)" in result.output
    assert f"{len(review) - 2} row(s) without a decision" in result.output
    stored = pd.read_csv(state / FILE_NAME, dtype=str, keep_default_na=False)
    assert sorted(stored["decision"]) == [MATCH, NOT_A_MATCH]
    mine = stored.set_index("decision")
    assert mine.loc[MATCH, "reviewed_on"] == "2026-11-03"
    assert mine.loc[NOT_A_MATCH, "comment"] == "other"
    assert mine.loc[MATCH, "source"].startswith(f"{reviewed}, row ")
    assert mine.loc[MATCH, "applied_at"]

    out = rerun(data, state, tmp_path / "second")
    assert "1 confirmed and 1 rejected pairs applied" in out
    second = tmp_path / "second"
    assert xref_of(second, "crm", confirm["left_id"]) == xref_of(second, "erp", confirm["right_id"])
    assert xref_of(second, "crm", reject["left_id"]) != xref_of(second, "erp", reject["right_id"])
    matches = read(second, "matches.csv")
    confirmed = matches.loc[matches["crm_company_id"] == confirm["left_id"]]
    assert "confirmed in review" in confirmed["decision_reason"].tolist()
    left = read(second, "review.csv")
    assert not (
        (left["left_id"] == confirm["left_id"]) & (left["right_id"] == confirm["right_id"])
    ).any()


def test_xlsx_round_trip_with_the_report_workbook(base: tuple[Path, Path], tmp_path: Path) -> None:
    data, first = base
    confirm, reject = to_confirm(first), to_reject(first)
    # The reviewer opens report.xlsx, picks "match" for a listed pair with a typed date, and adds
    # a row rejecting a pair recon linked.
    book = openpyxl.load_workbook(first / "report.xlsx")
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    assert header == REVIEW_COLUMNS  # the contract between the workbook and `review apply`
    col = {name: i + 1 for i, name in enumerate(header)}
    (row,) = [
        r
        for r in range(2, sheet.max_row + 1)
        if sheet.cell(r, col["left_id"]).value == confirm["left_id"]
        and sheet.cell(r, col["right_id"]).value == confirm["right_id"]
    ]
    sheet.cell(row, col["decision"]).value = "match"
    sheet.cell(row, col["reviewer"]).value = "ana"
    sheet.cell(row, col["reviewed_on"]).value = dt.datetime(2026, 11, 4)  # a typed date cell
    added = sheet.max_row + 1
    for name, value in decided(reject, "not a match", reviewer="bo").items():
        sheet.cell(added, col[name]).value = value or None
    reviewed = tmp_path / "reviewed.xlsx"
    book.save(reviewed)
    state = tmp_path / "state"

    result = runner.invoke(
        app, ["review", "apply", str(reviewed), str(data), "--state", str(state)]
    )
    assert result.exit_code == 0, result.output
    assert "stored 2 decision(s) (1 match, 1 not a match)" in result.output
    stored = pd.read_csv(state / FILE_NAME, dtype=str, keep_default_na=False)
    assert set(stored["source"]) == {
        f"{reviewed}, sheet Review, row {row}",
        f"{reviewed}, sheet Review, row {added}",
    }
    assert stored.set_index("decision").loc[MATCH, "reviewed_on"] == "2026-11-04"

    rerun(data, state, tmp_path / "second")
    second = tmp_path / "second"
    assert xref_of(second, "crm", confirm["left_id"]) == xref_of(second, "erp", confirm["right_id"])
    assert xref_of(second, "crm", reject["left_id"]) != xref_of(second, "erp", reject["right_id"])


def write_workbook(path: Path, sheets: Mapping[str, Sequence[Mapping[str, object]]]) -> None:
    """A small workbook with a Summary sheet first, then review sheet(s) with the review columns
    in row 1 (and a note beside them, as on a continuation sheet)."""
    book = openpyxl.Workbook()
    book.active.title = "Summary"
    book["Summary"].append(["recon review workbook"])
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        ws.append([*REVIEW_COLUMNS, "Excel holds 1,048,576 rows a sheet: rows 1–2 of 2."])
        for row in rows:
            ws.append([row.get(c) for c in REVIEW_COLUMNS])
    book.save(path)


def test_every_review_sheet_of_a_workbook_is_read(base: tuple[Path, Path], tmp_path: Path) -> None:
    """A long Review table continues on "Review (2)": both sheets' decisions count."""
    data, first = base
    confirm, reject = to_confirm(first), to_reject(first)
    reviewed = tmp_path / "reviewed.xlsx"
    write_workbook(
        reviewed,
        {
            "Review": [decided(confirm, "MATCH")],
            "Review (2)": [decided(reject, "no"), {**decided(reject, ""), "decision": None}],
        },
    )
    state = tmp_path / "state"
    result = runner.invoke(
        app, ["review", "apply", str(reviewed), str(data), "--state", str(state)]
    )
    assert result.exit_code == 0, result.output
    assert (
        "(1 match, 1 not a match)" in result.output
        and "1 row(s) without a decision" in result.output
    )
    stored = pd.read_csv(state / FILE_NAME, dtype=str, keep_default_na=False)
    assert set(stored["source"]) == {
        f"{reviewed}, sheet Review, row 2",
        f"{reviewed}, sheet Review (2), row 2",
    }


def test_bad_rows_are_all_listed_and_nothing_is_stored(
    base: tuple[Path, Path], tmp_path: Path
) -> None:
    data, first = base
    confirm, reject = to_confirm(first), to_reject(first)
    rows = [
        decided(confirm, "maybe"),  # row 2
        decided(confirm, "match", reviewer=""),  # row 3
        {**decided(confirm, "match"), "left_name": "Someone Else Ltd"},  # row 4
        {**decided(confirm, "match"), "right_id": "C999999"},  # row 5
        {**decided(confirm, "match"), "left_system": "sap"},  # row 6
        decided(confirm, "match", reviewed_on="03/04/2026"),  # row 7
        decided(reject, "match"),  # row 8, fine on its own
    ]
    csv_file = tmp_path / "part1.csv"
    pd.DataFrame(rows).to_csv(csv_file, index=False)
    xlsx_file = tmp_path / "part2.xlsx"
    write_workbook(xlsx_file, {"Review": [decided(reject, "not a match")]})
    state = tmp_path / "state"

    args = ["review", "apply", str(csv_file), str(xlsx_file), str(data), "--state", str(state)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "7 problem(s)" in result.output and "nothing was stored" in result.output
    expected = [
        f"{csv_file}, row 2, column decision: 'maybe' is not a decision",
        f"{csv_file}, row 3, column reviewer: empty",
        f"{csv_file}, row 4, column left_name: 'Someone Else Ltd', but CRM company "
        f"'{confirm['left_id']}' is '{confirm['left_name']}'",
        f"{csv_file}, row 5, column right_id: unknown record — no ERP customer 'C999999'",
        f"{csv_file}, row 6, column left_system: 'sap' — expected crm or erp",
        f"{csv_file}, row 7, column reviewed_on: '03/04/2026' could be day/month or month/day",
        f"{xlsx_file}, sheet Review, row 2, column decision: 'not a match' conflicts with 'match' "
        f"for the same pair at {csv_file}, row 8",
    ]
    for line in expected:
        assert line in result.output
    assert not state.exists()


def test_a_formula_without_a_saved_value_is_a_problem_not_an_empty_decision(
    base: tuple[Path, Path], tmp_path: Path
) -> None:
    """openpyxl saves formulas without their values: read as values, the decision is empty.
    Taken as "no decision" the reviewer's choice would be lost without a word."""
    data, first = base
    confirm, reject = to_confirm(first), to_reject(first)
    reviewed = tmp_path / "formulas.xlsx"
    write_workbook(
        reviewed,
        {
            "Review": [
                {**decided(confirm, ""), "decision": '=IF(1,"match","")'},  # row 2
                decided(reject, "not a match"),  # row 3, fine
                {**decided(reject, "not a match"), "reviewer": "=B2"},  # row 4
            ]
        },
    )
    state = tmp_path / "state"
    args = ["review", "apply", str(reviewed), str(data), "--state", str(state)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "2 problem(s)" in result.output and "nothing was stored" in result.output
    assert (
        f"{reviewed}, sheet Review, row 2, column decision: decision is a formula with no saved "
        "value: open and save the file in Excel or LibreOffice, or type the decision"
    ) in result.output
    assert f"{reviewed}, sheet Review, row 4, column reviewer: reviewer is a formula" in (
        result.output
    )
    assert not state.exists()


def test_missing_review_column_names_it(base: tuple[Path, Path], tmp_path: Path) -> None:
    data, first = base
    review = read(first, "review.csv").drop(columns="reviewer")
    path = tmp_path / "review.csv"
    review.to_csv(path, index=False)
    result = runner.invoke(app, ["review", "apply", str(path), str(data), "--state", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{path}: row 1 has no column reviewer" in result.output


def test_workbook_without_a_review_sheet_is_refused(
    base: tuple[Path, Path], tmp_path: Path
) -> None:
    data, _ = base
    path = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["something", "else"])
    book.save(path)
    result = runner.invoke(app, ["review", "apply", str(path), str(data), "--state", str(tmp_path)])
    assert result.exit_code == 2
    assert "no sheet has the review columns" in result.output and "sheets: Sheet" in result.output


def test_undecided_file_stores_nothing(base: tuple[Path, Path], tmp_path: Path) -> None:
    data, first = base
    state = tmp_path / "state"
    args = ["review", "apply", str(first / "review.csv"), str(data), "--state", str(state)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "no decisions found" in result.output
    assert not (state / FILE_NAME).exists()


def test_a_later_decision_replaces_an_earlier_one(base: tuple[Path, Path], tmp_path: Path) -> None:
    data, first = base
    reject = to_reject(first)
    state = tmp_path / "state"
    for n, word in enumerate(("match", "not a match")):
        path = tmp_path / f"round{n}.csv"
        pd.DataFrame([decided(reject, word)]).to_csv(path, index=False)
        args = ["review", "apply", str(path), str(data), "--state", str(state)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert "0 new, 1 changed" in result.output
    rerun(data, state, tmp_path / "second")
    second = tmp_path / "second"
    assert xref_of(second, "crm", reject["left_id"]) != xref_of(second, "erp", reject["right_id"])


def test_state_dir_from_recon_yaml_is_shared_by_apply_and_match(
    base: tuple[Path, Path], tmp_path: Path
) -> None:
    data, first = base
    reject = to_reject(first)
    tables = "\n".join(
        f"  {t}: {{file: {data / t}.csv}}"
        for t in ("crm_companies", "crm_deals", "erp_customers", "erp_orders")
    )
    config = tmp_path / "recon.yaml"
    config.write_text(f"state_dir: memory\ntables:\n{tables}\n", encoding="utf-8")
    path = tmp_path / "reviewed.csv"
    pd.DataFrame([decided(reject, "not a match")]).to_csv(path, index=False)
    result = runner.invoke(app, ["review", "apply", str(path), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "memory" / FILE_NAME).is_file()
    out = tmp_path / "second"
    result = runner.invoke(app, ["match", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "0 confirmed and 1 rejected pairs applied" in result.output
    assert xref_of(out, "crm", reject["left_id"]) != xref_of(out, "erp", reject["right_id"])


def test_demo_round_trip(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = tmp_path / "demo1"
    result = runner.invoke(app, ["demo", "--out", str(first), "--state", str(state)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "reviewed.csv"
    pd.DataFrame([decided(to_reject(first), "not a match")]).to_csv(path, index=False)
    result = runner.invoke(app, ["review", "apply", str(path), "--demo", "--state", str(state)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo2"), "--state", str(state)])
    assert result.exit_code == 0, result.output
    assert "0 confirmed and 1 rejected pairs applied" in result.output


def test_usage_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["review", "apply", str(tmp_path)])
    assert result.exit_code == 2
    assert "give the reviewed .xlsx or .csv file(s)" in result.output
    result = runner.invoke(app, ["review", "apply", str(tmp_path / "gone.xlsx"), "--demo"])
    assert result.exit_code == 2
    assert "gone.xlsx: file not found" in result.output


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("match", MATCH),
        (" Match ", MATCH),
        ("YES", MATCH),
        ("not a match", NOT_A_MATCH),
        ("Not  a  Match", NOT_A_MATCH),
        ("not match", NOT_A_MATCH),
        ("not-a-match", NOT_A_MATCH),
        ("No", NOT_A_MATCH),
        ("Skip", "skip"),
        ("", None),
        (None, None),
    ],
)
def test_decision_words(typed: str | None, expected: str | None) -> None:
    assert decision_word(typed) == expected


@pytest.mark.parametrize("typed", ["maybe", "matches?", "not sure at all"])
def test_unknown_decision_words_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="is not a decision"):
        decision_word(typed)
