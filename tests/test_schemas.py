"""The pandera models' own checks, against pandas as the oracle."""
from __future__ import annotations

import numpy as np
import pandas as pd

from segwork.schemas import later_repeats


def _arrow_text(values) -> pd.Series:
    return pd.Series(values, dtype=pd.StringDtype("pyarrow"))


def test_later_repeats_matches_pandas_on_mixed_length_ids():
    """Seeded property test: ids of mixed lengths whose total length can equal first-length x count."""
    rng = np.random.default_rng(20261201)
    alphabet = np.array(list("abcxyz019"))
    for _ in range(400):
        n = int(rng.integers(1, 40))
        pool = ["".join(rng.choice(alphabet, int(rng.integers(1, 6)))) for _ in range(int(rng.integers(1, 12)))]
        values = [pool[int(i)] for i in rng.integers(0, len(pool), n)]
        series = _arrow_text(values)
        for s in (series, series.iloc[1:]):
            want = s.duplicated(keep="first").to_numpy()
            assert (later_repeats(s) == want).all(), list(s)


def test_later_repeats_catches_the_reported_case():
    """["aa","b","b","cccc"]: total length 8 = 2 x 4, yet the ids differ in length."""
    series = _arrow_text(["aa", "b", "b", "cccc"])
    assert later_repeats(series).tolist() == [False, False, True, False]
