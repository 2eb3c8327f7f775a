"""Your market: fit a firm's transaction log and turn it into a world of the model.

:mod:`.logs` reads and checks the log, :mod:`.models` fits BG/NBD, Pareto/NBD and
gamma-gamma by maximum likelihood, :mod:`.market` maps the estimates to the model's
parameters, :mod:`.holdout` simulates the fitted cohort through the holdout, :mod:`.score`
scores a CLV model's per-customer predictions against a run's ``truth.parquet`` and
:mod:`.cli` is ``loyaltysim-fit``. ``CDNOW_MASTER`` is the worked example's log and
``CDNOW`` its 1/10 sample, the one the published estimates are for (below; the files,
their source and what was not checked about their terms: ``data/README.md``).

CDNOW master (``data/cdnow_master.txt.gz``): 69,659 purchases by 23,570 customers, every
customer who first bought at CDNOW in the first quarter of 1997, to June 1998
(customer_id, date as YYYYMMDD, number_of_cds, dollar_value in USD, separated by blanks):
``lifetimes/datasets/CDNOW_master.txt`` of ``lifetimes`` 0.11.3, gzipped byte for byte.

CDNOW sample (``data/cdnow_sample.csv.gz``): 6,919 purchases by 2,357 customers, a 1/10
sample of the cohort who first bought at CDNOW in the first quarter of 1997, to June 1998
(customer_id, date, cds, amount in USD). Source: Bruce Hardie's datasets page
(brucehardie.com/datasets), as redistributed in the ``lifetimes`` package 0.11.3 (whose
MIT licence covers the package; ``lifetimes/datasets/CDNOW_sample.txt``, the 5-column
sample converted to CSV with the sample's ids). Its terms of use are those of Hardie's
page, which this copy was not checked against: cite Fader, Hardie & Lee (2005) with it.
"""

from pathlib import Path

CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv.gz"
CDNOW_MASTER = Path(__file__).parent / "data" / "cdnow_master.txt.gz"
