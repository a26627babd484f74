"""Company-name normalization: pinned hard cases, and properties checked with hypothesis."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recon.normalize import default_rules, normalize_names, token_weights
from recon.normalize.names import fold_text, map_tokens

RULES = default_rules()
PROPERTY = settings(max_examples=60, deadline=None)


def norm(
    names: Sequence[str | None], countries: Sequence[str | None] | None = None
) -> pd.DataFrame:
    return normalize_names(
        pd.Series(names, dtype="string"),
        None if countries is None else pd.Series(countries, dtype="string"),
        RULES,
    )


def one(name: str, country: str | None = None) -> dict[str, object]:
    row = norm([name], [country]).iloc[0]
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


# --- pinned cases -----------------------------------------------------------------------------

SAME_NAME = [
    (
        [
            "PT Maju Jaya Tbk",
            "Maju Jaya, PT",
            "MAJU JAYA TBK",
            "PT. MAJU JAYA",
            "P.T. Maju Jaya",
            "PT.MAJU JAYA",
            "  pt   maju  jaya  ",
            "Maju Jaya Tbk, PT",
        ],
        "maju jaya",
    ),
    (["Müller GmbH", "Mueller GmbH", "MÜLLER G.m.b.H.", "Mu\u0308ller GmbH"], "mueller"),
    (["Acme Pty Ltd", "ACME PTY. LIMITED", "Acme Proprietary Limited", "Acme Pty. Ltd."], "acme"),
    (["Ford Motor Co.", "Ford Motor Company", "FORD MOTOR CO"], "ford motor"),
    (["Acme Co., Ltd.", "Acme Company Limited", "ACME CO LTD"], "acme"),
    (["Müller GmbH & Co. KG", "Mueller GmbH & Co KG", "Müller GmbH u. Co. KG"], "mueller"),
    (
        ["Acme Intl Svcs", "ACME INT'L SERVICES", "Acme International Services"],
        "acme international services",
    ),
    (["Smith Bros Mfg", "Smith Brothers Manufacturing"], "smith brothers manufacturing"),
    (["Jend. Sudirman Trading", "Jenderal Sudirman Trading"], "jenderal sudirman trading"),
    (["Société Générale S.A.", "SOCIETE GENERALE SA"], "societe generale"),
    (["Toyota Jidosha Kabushiki Kaisha", "Toyota Jidosha K.K."], "toyota jidosha"),
    (["XYZ Sdn. Bhd.", "XYZ (M) Sdn Bhd", "XYZ Sendirian Berhad"], "xyz"),
    (["Acme NZ Ltd", "Acme NZ Limited", "Acme (NZ) Ltd"], "acme"),
    (["Hauptstraße Bäckerei e.K.", "HAUPTSTRASSE BAECKEREI"], "hauptstrasse baeckerei"),
    (["Acme UG (haftungsbeschränkt)", "Acme UG"], "acme"),
    (["Smith & Co", "Smith & Co.", "Smith and Company"], "smith"),
    (["AT&T Inc.", "AT & T Incorporated", "A.T.&T."], "at and t"),
    (["McDonald's Corp", "McDonalds Corporation", "MCDONALD’S CORP."], "mcdonalds"),
]


@pytest.mark.parametrize(("spellings", "expected"), SAME_NAME)
def test_spellings_of_one_company_share_name_norm(spellings: list[str], expected: str) -> None:
    assert norm(spellings)["name_norm"].tolist() == [expected] * len(spellings)


@pytest.mark.parametrize(
    ("name", "country", "name_norm", "legal_form"),
    [
        ("PT Maju Jaya Tbk", "ID", "maju jaya", "PT TBK"),
        ("Maju Jaya Tbk, PT", "ID", "maju jaya", "PT TBK"),  # same codes whatever the order
        ("PT Bank Negara Indonesia (Persero) Tbk", "ID", "bank negara indonesia", "PT PERSERO TBK"),
        ("Acme Pty. Ltd.", "AU", "acme", "PTY_LTD"),
        ("Redwater Construction P/L", "AU", "redwater construction", "PTY_LTD"),
        ("Acme Ltd", "GB", "acme", "LTD"),
        ("Acme Co., Ltd.", None, "acme", "CO_LTD"),
        ("Acme Corporation", "US", "acme", "CORP"),
        ("Acme, L.L.C.", "US", "acme", "LLC"),
        ("Acme GmbH & Co. KG", "DE", "acme", "GMBH_CO_KG"),
        ("Acme BV", "NL", "acme", "BV"),
        ("Kabushiki Kaisha Toshiba", "JP", "toshiba", "KK"),
        # "Corporation" is a legal form only at the end.
        ("Corporation Bank", "IN", "corporation bank", None),
        # Short forms that are also words stay in names of other countries ...
        ("Midwest Ag", "US", "midwest ag", None),
        ("CV Sciences", "US", "cv sciences", None),
        ("Acme NV", "US", "acme nv", None),
        # ... and go in their own country, or when the record has no country.
        ("Agri Ag", "DE", "agri", "AG"),
        ("Agri Ag", None, "agri", "AG"),
        ("CV Sumber Rejeki", "Indonesia", "sumber rejeki", "CV"),
        # "Ag" only at the end, "Co" only within "Co Ltd" or "& Co".
        ("Ag Supplies", "DE", "ag supplies", None),
        ("Co Operative Bank", "GB", "company operative bank", None),
        # A legal form in the middle is part of the name.
        ("Limited Brands Inc", "US", "limited brands", "INC"),
        # Never emptied: a name that is only legal forms keeps them.
        ("Pty Ltd", "AU", "proprietary limited", None),
        ("PT", "ID", "pt", None),
        ("PT Tbk", "ID", "pt tbk", None),
    ],
)
def test_legal_forms(name: str, country: str | None, name_norm: str, legal_form: str | None):
    got = one(name, country)
    assert (got["name_norm"], got["legal_form"]) == (name_norm, legal_form)


def test_folding_spells_out_umlauts_but_does_not_guess_them() -> None:
    # Documented: "Muller" (umlaut dropped by the typist) stays apart; the fuzzy scorer sees it.
    got = norm(["Müller", "Mueller", "MÜLLER", "Muller", "Straße", "Strasse", "Søren", "Œuvre"])
    assert got["name_norm"].tolist() == [
        "mueller",
        "mueller",
        "mueller",
        "muller",
        "strasse",
        "strasse",
        "soren",
        "oeuvre",
    ]


def test_missing_and_placeholder_names_are_na() -> None:
    got = norm([None, "", "   ", "-", "n/a", "N.A.", "#N/A", "unknown", "--", "N/A Ltd"])
    assert got.isna().all().all()


def test_name_core_drops_stop_and_generic_words_but_is_never_empty() -> None:
    got = norm(["The Acme Group Holdings", "Group Holdings", "PT Maju Jaya Indonesia", "The Group"])
    assert got["name_core"].tolist() == ["acme", "group holdings", "maju jaya", "the group"]


def test_name_tokens_are_sorted_distinct_words() -> None:
    got = norm(["Maju Jaya", "JAYA MAJU", "Jaya Jaya Maju"])
    assert got["name_tokens"].tolist() == ["jaya maju", "jaya maju", "jaya maju"]


def test_name_generic_holds_the_generic_words_once_in_one_form() -> None:
    got = norm(
        ["Hillgate Systems Ltd", "HILLGATE SYSTEMS", "Southridge Tech", "Southridge Technologies",
         "Acme Trading Holdings", "Acme Holding Trading", "Maju Jaya", "N/A"]
    )  # fmt: skip
    assert got["name_generic"].tolist()[:6] == [
        "system", "system", "technology", "technology", "holding trading", "holding trading"
    ]  # fmt: skip
    assert got["name_generic"].iloc[6] == ""  # a name without generic words: known to have none
    assert pd.isna(got["name_generic"].iloc[7])  # no name: unknown
    # the core of sister companies agrees; their descriptors do not
    sisters = norm(["Hillgate Systems", "Hillgate Technologies"])
    assert sisters["name_core"].nunique() == 1 and sisters["name_generic"].nunique() == 2


def test_a_mistyped_generic_word_is_still_generic() -> None:
    got = norm(["Woodhaven Inudstries", "Woodhaven Industries", "Eastmark Consuling"])
    assert got["name_core"].tolist() == ["woodhaven", "woodhaven", "eastmark"]
    assert got["name_generic"].tolist() == ["industry", "industry", "consulting"]
    assert got["name_norm"].iloc[0] == "woodhaven inudstries"  # the name itself is kept as typed
    # a distinctive word that merely looks like one is left alone
    others = norm(["Goldings", "Holdinger Werk", "Systemax"])
    assert others["name_generic"].tolist() == ["", "", ""]


def test_index_dtype_and_duplicates_are_kept() -> None:
    names = pd.Series(["PT Maju", None, "PT Maju", "Acme AG"], index=[7, 7, 3, 9])
    countries = pd.Series(["ID", "ID", "US", "DE"], index=[7, 7, 3, 9])
    got = normalize_names(names, countries, RULES)
    assert got.index.tolist() == [7, 7, 3, 9]
    assert list(got.columns) == [
        "name_norm",
        "name_core",
        "name_tokens",
        "name_generic",
        "legal_form",
        "name_marker",
        "name_source",
        "name_alt",
    ]
    assert all(str(t) == "string" for t in got.dtypes)
    assert got["name_norm"].tolist()[::2] == ["maju", "maju"]
    assert got["legal_form"].iloc[3] == "AG"


def test_token_weights_come_from_rules_in_folded_form() -> None:
    weights = token_weights(RULES)
    assert weights["the"] == 0.0
    assert 0 < weights["group"] < 1
    assert 0 < weights["international"] < 1  # listed as "international"; "intl" maps to it
    assert "intl" not in weights
    assert "maju" not in weights  # any other word weighs 1


def test_map_tokens_consults_the_table_once_per_distinct_word() -> None:
    seen: list[str] = []

    def table(word: str) -> str:
        seen.append(word)
        return word.upper() if word != "drop" else ""

    got = map_tokens(pd.Series(["a drop b", "b a", None, "", "a"] * 1000, dtype="string"), table)
    assert got.iloc[:5].tolist()[:2] == ["A B", "B A"]
    assert pd.isna(got.iloc[2]) and got.iloc[3] == ""
    assert sorted(seen) == ["a", "b", "drop"]


# --- properties -------------------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzäöüßéèêáàâíóúñçåøæœ"
TEXT = st.text(alphabet=LETTERS + LETTERS.upper() + "0123456789 .,&-'()/", max_size=40)
WORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8), min_size=1, max_size=4
)
HARD = ["PT Maju Jaya Tbk", "Müller GmbH & Co. KG", "P.T. A.B.C.", "Pty Ltd", "N/A Corp", "X Corp"]


@PROPERTY
@given(st.lists(TEXT, min_size=1, max_size=15))
@example(HARD)
@example(["co co co", "intl intl", "a b c d", "pt pt pt maju pt", "ltd pty ltd", "corp"])
def test_idempotent(names: list[str]) -> None:
    first = norm(names)["name_norm"]
    again = norm(first.tolist())["name_norm"]
    assert again.fillna("<NA>").tolist() == first.fillna("<NA>").tolist()


@PROPERTY
@given(st.lists(TEXT, min_size=1, max_size=15))
@example([*HARD, "Straße", "İstanbul Ltd", "ǅ"])
def test_case_does_not_matter(names: list[str]) -> None:
    lower = norm([n.lower() for n in names])["name_norm"]
    upper = norm([n.upper() for n in names])["name_norm"]
    assert upper.fillna("").tolist() == lower.fillna("").tolist()


ACCENTS = str.maketrans("aeiounc", "áéíóúñç")


@PROPERTY
@given(WORDS)
@example(["societe", "generale"])
@example(["mueller", "koeln"])
def test_accents_and_decomposed_text_do_not_matter(words: list[str]) -> None:
    plain = " ".join(words)
    accented = plain.translate(ACCENTS)
    umlauts = plain.replace("ue", "ü").replace("oe", "ö")
    variants = [
        plain,
        accented,
        unicodedata.normalize("NFD", accented),
        umlauts,
        unicodedata.normalize("NFD", umlauts),
    ]
    got = norm(variants)["name_norm"]
    assert got.tolist() == [got.iloc[0]] * len(variants)


@PROPERTY
@given(
    WORDS,
    st.lists(
        st.sampled_from([" ", "  ", ", ", " - ", ". ", " / ", "\t", " (", ") "]),
        min_size=3,
        max_size=3,
    ),
)
def test_punctuation_and_spacing_do_not_matter(words: list[str], separators: list[str]) -> None:
    messy = " " + "".join(w + separators[i % 3] for i, w in enumerate(words)) + " ."
    got = norm([" ".join(words), messy])["name_norm"]
    # A name that is only a placeholder ("none") is missing either way; compare NA-safely.
    assert got.iloc[:1].tolist() == got.iloc[1:].tolist()


BASE_WORDS = [
    "maju",
    "jaya",
    "sumber",
    "rejeki",
    "acme",
    "mueller",
    "north",
    "star",
    "bakery",
    "sinar",
    "mas",
    "global",
    "trading",
    "bank",
    "harbour",
    "kiwi",
]
FORMS = [(v, form.code, form.position) for form in RULES.legal_forms for v in form.variants]


@PROPERTY
@given(
    st.lists(st.sampled_from(BASE_WORDS), min_size=1, max_size=4),
    st.sampled_from(FORMS),
    st.sampled_from(["plain", "upper", "title"]),
)
@example(["maju", "jaya"], ("PT", "PT", "either"), "upper")
@example(["maju", "jaya"], ("Tbk", "TBK", "end"), "plain")
@example(["agri"], ("AG", "AG", "end"), "title")
def test_position_of_the_legal_form_does_not_matter(words, form, case) -> None:
    variant, code, position = form
    base = " ".join(words)
    base = {"plain": base, "upper": base.upper(), "title": base.title()}[case]
    placed = []
    if position in ("start", "either"):
        placed += [f"{variant} {base}", f"{variant}. {base}"]
    if position in ("end", "either"):
        placed += [f"{base} {variant}", f"{base}, {variant}", f"{base} ({variant})"]
    got = norm([base, *placed])  # no country: every form applies
    assert got["name_norm"].tolist() == [got["name_norm"].iloc[0]] * (1 + len(placed))
    assert got["legal_form"].iloc[1:].tolist() == [code] * len(placed)


@PROPERTY
@given(st.lists(TEXT, min_size=1, max_size=10))
def test_fold_text_is_ascii_for_latin_input_and_idempotent(texts: list[str]) -> None:
    folded = fold_text(pd.Series(texts, dtype="string"))
    assert all(t.isascii() for t in folded)
    assert fold_text(folded).tolist() == folded.tolist()
