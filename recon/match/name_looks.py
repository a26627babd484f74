"""Second looks at two names the similarity scorers call different, over distinct values.

A person links these at a glance; the scorers do not:

* joined words: "mulyabangun" (a company HubSpot named after its web domain) and "mulya bangun",
  "brightwater" and "bright water": the names compared with their spaces removed;
* short form: "hayford" and "hayford and dunshaw", "black" and "black crow": every word of the
  shorter name, in order, begins the longer one ("northpointquality", a domain's name, begins
  "northpoint quality health" written together);
* the other name: "woodland elmdale nominees" T/A "eleo laboratories" (the record's ``name_alt``)
  against the other record's name.

Each look works on arrays of distinct values (Arrow kernels, rapidfuzz's cpdist), never a Python
call per pair. The comparison decides what each look is worth: the joined words give a
similarity, the short form its own level (learned like any other), the other name the better of
its levels.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

# A short form names at most this many words; "one two three four" beginning a longer name is a
# near-exact name, which the scorers already see.
MAX_SHORT_WORDS = 3
# The shorter name must carry at least this many letters: "ab" begins too many names.
MIN_SHORT_CHARS = 3
# Joined words: one name of one word against a name of at most this many.
MAX_JOINED_WORDS = 4

# The first k + 1 words of a longer name (RE2): "{k}" is filled in, the rest is literal.
_FIRST_WORDS = r"^((?:\S+ ){{{k}}}\S+) .*$"

HOW_SCORED = np.int8(0)
HOW_JOINED = np.int8(1)
HOW_OTHER_NAME = np.int8(2)


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values.tolist(), pa.large_string())


def word_counts(values: np.ndarray) -> np.ndarray:
    """Words per value (values are single-spaced, as compare keeps them)."""
    spaces = pc.count_substring(_text(values), " ").to_numpy(zero_copy_only=False)
    return spaces.astype(np.int16) + 1


def joined_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """fuzz.ratio of the two texts with their spaces removed, in [0, 1] (float32)."""
    ja = pc.replace_substring(_text(a), " ", "").to_numpy(zero_copy_only=False)
    jb = pc.replace_substring(_text(b), " ", "").to_numpy(zero_copy_only=False)
    got = process.cpdist(ja, jb, scorer=fuzz.ratio, workers=-1, dtype=np.float32)
    return got / np.float32(100)


def is_short_form(short: np.ndarray, long: np.ndarray, short_words: np.ndarray) -> np.ndarray:
    """Whether each ``short`` value is the first ``short_words`` words of the ``long`` one.

    The caller passes only pairs where the short value has fewer words than the long one."""
    out = np.zeros(len(short), dtype=bool)
    for k in range(1, MAX_SHORT_WORDS + 1):
        rows = np.flatnonzero(short_words == k)
        if not len(rows):
            continue
        first_k = pc.replace_substring_regex(
            _text(long[rows]), pattern=_FIRST_WORDS.format(k=k - 1), replacement=r"\1"
        )
        same = pc.equal(first_k, _text(short[rows]))
        out[rows] = pc.fill_null(same, False).to_numpy(zero_copy_only=False)
    # a one-word name may be the first words written together: "northpointquality" (a company
    # named after its web domain) and "northpoint quality health"
    one = np.flatnonzero(short_words == 1)
    for k in range(2, MAX_SHORT_WORDS + 1):
        if not len(one):
            break
        first_k = pc.replace_substring_regex(
            _text(long[one]), pattern=_FIRST_WORDS.format(k=k - 1), replacement=r"\1"
        )
        joined = pc.replace_substring(first_k, " ", "")
        same = pc.fill_null(pc.equal(joined, _text(short[one])), False)
        out[one] |= same.to_numpy(zero_copy_only=False)
    lengths = pc.utf8_length(_text(short)).to_numpy(zero_copy_only=False)
    return out & (lengths >= MIN_SHORT_CHARS)
