"""Scale: the customer table written in row chunks (the command line's way, never whole in
memory) is the table ``Market.customers()`` gives, row for row and type for type."""

from __future__ import annotations

import pandas as pd
import pytest

from loyaltysim import build_model, load_config, run_one
from loyaltysim.runs.io import write_customer_table


@pytest.fixture(scope="module")
def model():
    m = build_model(overrides=["customers.n=1500", "market.horizon_weeks=20", "competitor.count=2"])
    m.run()
    return m


@pytest.mark.parametrize("chunk_rows", [7, 1000, 1 << 15])
def test_chunked_customer_table_is_the_table(model, tmp_path, chunk_rows):
    full = model.customers()
    assert (full["status"] == "gone").any() and len(full) > 1000  # more rows than a chunk
    rows = write_customer_table(model, tmp_path / "c.parquet", chunk_rows)
    assert rows == len(full)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "c.parquet"), full)


def test_run_one_without_keeping_customers_writes_the_same_file(tmp_path):
    cfg = load_config(["customers.n=800", "market.horizon_weeks=10", "output.figure=false"])
    kept = run_one(cfg, tmp_path / "kept")
    streamed = run_one(cfg, tmp_path / "streamed", keep_customers=False)
    assert streamed.customers is None and kept.customers is not None
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "streamed" / "customers.parquet"), kept.customers
    )
    pd.testing.assert_frame_equal(streamed.metrics, kept.metrics)
