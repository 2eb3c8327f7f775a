"""Runs and sweeps: compose a config, run a model, write and record its folder, sweep many.

:mod:`.runner` composes configs and runs one model (the core of the Python API), and
:mod:`.summary` gives its headline outcomes; :mod:`.ensemble` runs many markets in one
process, sharing their warm-ups; :mod:`.truth` records each customer's true parameters;
:mod:`.limits` checks a run before it allocates anything; :mod:`.io` writes a run folder and
:mod:`.plotting` its figure; :mod:`.runrecord` fingerprints finished runs; :mod:`.sweep`,
:mod:`.sweeper`, :mod:`.sweepconfig`, :mod:`.launcher` and :mod:`.raylauncher` run sweeps
on Hydra's launchers; :mod:`.designs` draws random programme designs inside configs;
:mod:`.progress` reports many runs; :mod:`.collect` gathers a sweep into one table.

May import: :mod:`loyaltysim.model` and :mod:`loyaltysim.engines`. Never the studies or the
interfaces (``tests/test_architecture.py`` enforces it).
"""
