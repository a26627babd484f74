"""A pathological value (a 5 MB company name) goes through block and compare at the cost of a
normal one: the matcher compares at most ``MAX_COMPARED_CHARS`` characters of it."""

from __future__ import annotations

import pandas as pd

from recon.config.blocking import load_blocking_rules
from recon.config.matching import load_matching_rules
from recon.match.block import candidate_pairs
from recon.match.compare import compare_pairs
from recon.match.records import build_records
from recon.normalize.frame import MAX_COMPARED_CHARS

HUGE = 5_000_000


def test_a_5_mb_name_is_compared_on_its_start_and_still_matches() -> None:
    companies = pd.DataFrame(
        {
            "company_id": ["1", "2"],
            "name": ["Maju Jaya Trading " + "x" * HUGE, "Sinar Abadi Logistics"],
            "country": ["ID", "ID"],
            "phone": ["021 5551234", "021 5559876"],
            "domain": ["majujaya.co.id", "sinarabadi.co.id"],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "name": ["Maju Jaya Trading " + "x" * 40, "SINAR ABADI LOGISTICS"],
            "country": ["ID", "ID"],
            "phone": ["+62 21 5551234", "+62 21 5559876"],
        }
    )
    records = build_records(companies, customers)
    for column in ("name_norm", "name_core", "name_tokens"):
        assert records[column].str.len().max() <= MAX_COMPARED_CHARS
    pairs = candidate_pairs(records, load_blocking_rules())
    compared = compare_pairs(records, pairs, load_matching_rules())
    ids = records["record_id"].to_numpy()
    found = {
        (ids[a], ids[b]): phone
        for a, b, phone in zip(pairs["left"], pairs["right"], compared["phone_lvl"], strict=True)
    }
    assert found.get(("1", "C1")) == 1 or found.get(("C1", "1")) == 1  # the pair is compared
