"""Studies of runs: what the runs say, to a manager and to a researcher.

:mod:`.comparison` and :mod:`.compare` compare a sweep's arms (paired differences, CIs,
payback; :mod:`.arms` says which runs make an arm and names it in words), :mod:`.margin`
gives an arm's break-even gross margin, :mod:`.formatting` and :mod:`.report` say it in a
manager's words, :mod:`.ask` answers a scenario's question (:mod:`.scenario` reads one);
:mod:`.analysis` holds one claim analysis per experiment (and :mod:`.analysis.clv` the
transaction log as CLV libraries read it), :mod:`.fit` fits a firm's own transaction log
(``loyaltysim-fit``), :mod:`.validation` the checks against published regularities,
:mod:`.calibration` the ensemble of plausible worlds, and :mod:`.checks` the checks any
programme type must pass.

May import: :mod:`loyaltysim.model`, :mod:`loyaltysim.engines` and :mod:`loyaltysim.runs`.
Never the interfaces (``tests/test_architecture.py`` enforces it).
"""
