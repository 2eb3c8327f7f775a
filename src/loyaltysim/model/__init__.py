"""The model: the rules of the market, and nothing that plays, runs or studies them.

What a customer is and does (:mod:`.customers`, :mod:`.purchases`, :mod:`.memory`,
:mod:`.referrals` on the :mod:`.network`, :mod:`.status`), what a firm is and does
(:mod:`.firms`, :mod:`.competitors`, :mod:`.poaching`, the loyalty :mod:`.programmes`),
the state they act on (:mod:`.population`, :mod:`.trades`), the outcomes they book
(:mod:`.metrics`), their random numbers (:mod:`.streams`, :mod:`.counters`), their parameters
(:mod:`.params`) and the configuration that composes them (:mod:`.config`).

May import: only itself (and NumPy, SciPy, Mesa, OmegaConf). Never the engines, the run
machinery, the studies or the interfaces (``tests/test_architecture.py`` enforces it).
"""
