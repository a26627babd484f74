"""The match stage: records → block → compare → score → cluster → xref. Pure functions, no I/O.

Contracts between the steps (positions, not labels, tie them together):

records   One row per CRM company and ERP customer, RangeIndex 0..n-1 (a record's position is its
          ``rid``): the columns of ``recon.normalize.COLUMNS`` plus ``ref_id`` (the other system's
          id that the record claims: CRM ``erp_customer_id`` / ERP ``crm_company_id``), ``activity``
          (deals or orders of the record) and ``created_at``. Built by ``records.build_records``.
pairs     Candidate pairs from ``block.candidate_pairs``: ``left`` < ``right`` (int64 positions),
          ``passes`` (int16 bitmask of the blocking passes that proposed the pair); unique, sorted.
compared  ``compare.compare_pairs``: same rows as pairs; per field ``<field>_sim`` (float32 in
          [0, 1], NaN where either side is missing) and ``<field>_lvl`` (int8 comparison level,
          -1 where either side is missing).
scored    ``score.score_pairs``: left, right, ``weight`` (log2 Bayes factor), ``probability``
          (0..1), ``decision`` (auto | review | reject) and ``reasons`` (plain language).
entities  ``cluster.cluster_records``: one row per record with ``entity`` (int), and the pair
          decisions after the chaining split and the ambiguity guard.
xref      ``xref.assign_xref``: xref_id per record, duplicates with a suggested survivor.
"""
