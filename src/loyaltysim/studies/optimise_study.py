"""The Optuna study of ``loyaltysim-optimise``, kept in its run folder: a journal file
(``study.journal``, Optuna's JournalStorage) that a killed search resumes from and a rerun
adds trials to; the search's settings are stored with it, and a rerun with other settings
into the same folder is refused in one line."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from ..runs.collect import UsageError


def open_study(out: Path, spec: dict[str, str], sampler_seed: int):
    """The study in ``out`` (created, or loaded where it exists) with a seeded TPE sampler;
    trials a killed search left running are marked failed (their designs play again)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(out / "study.journal")))
    study = optuna.load_study(study_name="optimise", storage=storage) if _exists(storage) else None
    # the sampler's seed moves on with the trials stored: a resumed search draws new designs
    # instead of the ones its first call drew (still the same designs on every rerun)
    seed = sampler_seed + (len(study.trials) if study is not None else 0)
    study = optuna.create_study(
        study_name="optimise",
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        load_if_exists=True,
    )
    old = {k: v for k, v in study.user_attrs.items() if k in spec}
    if old and old != spec:
        changed = sorted(k for k in spec if old.get(k) != spec[k])
        raise UsageError(
            f"out = {str(out)!r} holds a search with other {', '.join(changed)}; allowed: "
            "the same search (to resume it) or a new out= folder"
        )
    for k, v in spec.items():
        study.set_user_attr(k, v)
    running = optuna.trial.TrialState.RUNNING
    for t in study.get_trials(deepcopy=False, states=(running,)):
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
    return study


def _exists(storage) -> bool:
    return any(s.study_name == "optimise" for s in storage.get_all_studies())


def grid_points(levers) -> list[dict[str, Any]] | None:
    """Every design of an all-discrete lever space, or None where a lever is a range."""
    if any(x.choices is None for x in levers):
        return None
    keys = [x.key for x in levers]
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(x.choices for x in levers))
    ]


def completed(study) -> list:
    import optuna

    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
