"""The calibration's ``README.md``: what was run, what was accepted, how the candidates
came about, what the data pin down and which targets bind (written by :mod:`.report`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .targets import Calibration


def shown(path: str) -> str:
    """A path as a reader can follow it: relative to the package root or working folder."""
    from ...runs.io import config_dir

    for base in (config_dir().parent, Path.cwd()):
        try:
            return str(Path(path).resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return path


def run_hint(cal: Calibration) -> str:
    """The command that runs an accepted world from where the calibration wrote them."""
    from ...runs.io import config_dir

    world_dir = Path(cal.world_dir or config_dir() / "world")
    if world_dir.resolve() == (config_dir() / "world").resolve():
        return "loyaltysim world=<id>"
    # Hydra finds the group in a folder named world under a search path
    how = f"loyaltysim hydra.searchpath=[file://{world_dir.resolve().parent}] world=<id>"
    if world_dir.name != "world":
        how += f"; Hydra finds them only if the folder is named world, not {world_dir}"
    return how


def waves_text(cal: Calibration, cands: pd.DataFrame) -> list[str]:
    """How the candidates came about: the first design and each refinement wave, with
    what the screen and the confirmation made of each."""
    if "wave" not in cands:
        return []
    rows = []
    for wave, part in cands.groupby("wave", sort=True):
        row = {"wave": int(wave), "worlds": len(part)}
        row["how"] = (
            "scrambled Sobol design over the sampled ranges"
            if wave == 0
            else "Sobol points in the box of the worlds not ruled out"
            + (
                f", the {cal.wave_candidates} of {cal.wave_candidates * cal.wave_pool} most "
                "likely by the emulator"
                if cal.wave_pool > 1
                else ""
            )
        )
        if "screen_accepted" in part:
            row["screen accepted"] = int(part["screen_accepted"].sum())
            row["confirmed"] = int(part["confirmed"].sum())
        row["accepted"] = int(part["accepted"].sum())
        rows.append(row)
    return [
        "## How the candidates came about",
        "",
        f"A first design of {cal.candidates} worlds, then up to {cal.waves} refinement waves "
        f"(history matching: each wave lies in the box of the worlds whose implausibility is "
        f"at most {cal.cutoff:g})"
        + (
            f"; an emulator (a quadratic response surface of each enforced statistic over the "
            f"normalised parameters, fitted to every world measured so far) picks each wave's "
            f"{cal.wave_candidates} worlds from {cal.wave_pool} times as many points, those "
            "most likely to meet every target"
            if cal.wave_pool > 1
            else ""
        )
        + ". The `wave` column of `candidates.csv` says where each world came from.",
        "",
        _table(pd.DataFrame(rows)),
        "",
    ]


def near_text(cal: Calibration) -> str:
    if cal.confirm_rule == "noise":
        return (
            f"{cal.confirm_z:g} standard errors of the screen's mean (pooled over the "
            f"screened worlds) plus {cal.confirm_cutoff:g} half-widths"
        )
    return f"{cal.confirm_cutoff:g} half-widths"


def rules_text(cal: Calibration, s: dict) -> list[str]:
    """The confirmation rules side by side: what each confirms, costs and accepts."""
    if not s.get("rules"):
        return []
    se = s.get("pooled_se") or {}
    errors = ", ".join(
        f"{t.name} {se[t.statistic]:.3g} ({se[t.statistic] / t.half_width:.2f} half-widths)"
        for t in cal.targets
        if t.enforce and t.statistic in se
    )
    rows = pd.DataFrame(s["rules"])
    if not any(t.statistic.startswith("programme_effect_engagement.") for t in cal.targets):
        rows = rows.drop(columns="engagement loses money in")  # not measured: no such arm
    return [
        "How the ensemble depends on the confirmation rule (`rule` in the calibration file: "
        "`confirm_rule`, `confirm_z`, `confirm_cutoff`): a rule confirms the worlds it cannot "
        "rule out on the screen; `accepted` and `engagement loses money in` are known only "
        "for rules whose worlds this calibration confirmed (a wider rule needs its runs). "
        f"The screen's pooled standard errors: {errors or 'none'}.",
        "",
        _table(rows.astype(object).where(rows.notna(), "needs runs")),
        "",
    ]


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def readme(cal, s, bind, pins, cands) -> str:
    pinned = [r.parameter for r in pins.itertuples() if r.verdict == "pinned"]
    narrowed = [r.parameter for r in pins.itertuples() if r.verdict == "narrowed"]
    open_ = [r.parameter for r in pins.itertuples() if r.verdict == "open"]
    rate = f"{100 * s['acceptance_rate']:.1f}%"
    cost = s.get("run_seconds")
    lines = [
        f"# Calibration `{cal.name}`: an ensemble of plausible worlds",
        "",
        f"Written by `loyaltysim-calibrate calibration={cal.name}` ({shown(cal.source_file)}). "
        f"{s['candidates']} candidate worlds (a Sobol design over "
        f"{len(cal.parameters)} uncertainties, seed {cal.seed}, and its refinement waves: "
        "below), each screened with "
        f"{cal.replications} replications of {cal.customers} customers over {cal.weeks} "
        f"weeks; {s.get('runs', '?')} runs in all. **{s['accepted']} accepted ({rate})**, i.e. "
        f"with every enforced target within tolerance; {s['failed']} candidates could not "
        "be measured.",
        "",
        *(
            [
                f"Confirmation: the screen accepted {s['screen_accepted']} worlds. The "
                f"{s['confirmed']} worlds within {near_text(cal)} of every "
                f"enforced target were rerun with {cal.confirm_replications} replications "
                f"(the screen's {cal.replications} among them), and only those means decide "
                f"acceptance: {s['accepted']} passed, {s['confirmed_screen_rejects']} of them "
                f"missed some target in the screen, and "
                f"{s['screen_accepted'] - (s['accepted'] - s['confirmed_screen_rejects'])} "
                "worlds the screen accepted failed. The statistics of a confirmed world in "
                "the tables below are its confirmed means (column `replications`).",
                "",
            ]
            if cal.confirms
            else []
        ),
        *rules_text(cal, s),
        f"Most central world (medoid of the accepted worlds in the normalised parameter "
        f"space): **{s['central'] or 'none'}**; best fit to the targets' centres: "
        f"{s['best_fit'] or 'none'}. "
        + (
            "Its overrides are in `central.yaml`; run any accepted world with "
            f"`{run_hint(cal)}` (files in the config group `world`): "
            + ", ".join(f"`{w}`" for w in cands.index[cands["accepted"]])
            + "."
            if s["central"]
            else "With no accepted world there is no `central.yaml` and no world to run."
        ),
        "",
        f"Least implausible world (history matching: the largest miss of any enforced target "
        f"beyond its tolerance, in half-widths; 0 for an accepted world): "
        f"**{s['closest'] or 'none'}** ({_num(s['closest_implausibility'])}; misses: "
        f"{', '.join(s['closest_misses']) or 'none'}); its overrides are in `closest.yaml` "
        "(run it from the project folder with `loyaltysim "
        f"hydra.searchpath=[file://{shown(str((cal.out / 'candidates').resolve()))}] "
        "world=<id>`, the candidates' config group; the folder is not kept in git: a rerun "
        "writes it, without redoing finished runs).",
        "",
        f"Cost: {s['total_run_minutes']} minutes of sweeps for the {s['total_runs_made']} "
        "runs made so far with this code (every call's, including runs of worlds that are "
        "no longer candidates, such as waves drawn from results since changed; "
        f"{s.get('seconds_per_run') or '?'} s a run, wall "
        "clock, with "
        + (f"`{' '.join(s['hydra_args'])}`" if s.get("hydra_args") else "the default launcher")
        + "; each call that ran something is in "
        f"`cost.csv`); this call ran {s.get('new_runs', 0)} runs in {cost} s and measured "
        f"in {s.get('measure_seconds', '?')} s.",
        "",
        *waves_text(cal, cands),
        "## What the data pin down and what they leave open",
        "",
        f"Pinned (accepted spread under half the sampled one): {', '.join(pinned) or 'none'}. "
        f"Narrowed: {', '.join(narrowed) or 'none'}. Left open (over 0.8 of the sampled "
        f"spread): {', '.join(open_) or 'none'}. A parameter left open is one the targets do "
        "not constrain: results that depend on it should be shown across the ensemble, not "
        "at the central world alone.",
        "",
        _table(pins),
        "",
        "## Targets",
        "",
        "How many measured candidates meet each target, and how many miss only that one "
        "(a target with many such misses is the one that binds). Of the enforced targets, "
        "fewest meet: "
        + "; ".join(
            f"{r.target} ({r.met} of {r.measured})"
            for r in bind[[t.enforce for t in cal.targets]].sort_values("met").head(3).itertuples()
        )
        + ".",
        "",
        _table(bind),
        "",
        "![targets](targets.png)",
        "",
        "![pairs](pairs.png)",
        "",
    ]
    if not s["accepted"]:
        lines += [
            "**No world met every target**: see `targets.csv` for the binding target; "
            "widen its tolerance, sample wider ranges or add candidates.",
            "",
        ]
    return "\n".join(lines)
