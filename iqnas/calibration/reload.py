"""``load_run``: a finished (or interrupted) calibration run read back from its sample store,
with its saved models (``iqnas calibrate --save-models DIR``) or models refitted as the run
fitted them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from iqnas.calibration.common import best_measured
from iqnas.calibration.run import CalibrationRun, make_estimator, onehot, split_lookups
from iqnas.calibration.store import SampleStore, open_store
from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm

log = logging.getLogger(__name__)


def load_run(store: str | Path | SampleStore,
             models: str | Path | Mapping[str, QuadraticForm] | None = None) -> CalibrationRun:
    """The :class:`CalibrationRun` of a store written by ``iqnas.calibrate``.

    ``models`` is a directory of ``<metric>.json`` (or ``.npz``) forms, a dict metric -> form,
    or None; each metric without a given form is refitted from the samples with the run's
    settings (the same estimator and data as the run's final fit). ``history`` has one entry per
    round found in the samples. ``run.settings["models"]`` says per metric where its form came
    from. Forms of another space than the store's are refused.
    """
    st = open_store(store) if not isinstance(store, SampleStore) else store
    try:
        settings = st.get_meta("settings")
        if not isinstance(settings, dict) or "objective" not in settings:
            raise InputError(f"store {st.path} records no calibration settings (it was not "
                             "written by iqnas calibrate); report and explain need a "
                             "calibration store")
        samples = st.samples()
        units = st.units
        choice = st.get_meta("model_choice")
    finally:
        if not isinstance(store, SampleStore):
            st.close()
    space = st.space
    if samples.empty:
        raise InputError(f"store {st.path} holds no samples yet")
    metrics = list(settings.get("metrics") or st.metrics)
    if isinstance(choice, dict):
        settings = {**settings, "model_choice": choice}
    given = _given(models, space, metrics)
    fitted, origin = {}, {}
    X = None
    for m in metrics:
        if m in given:
            fitted[m], origin[m] = given[m]
            continue
        X = onehot(space, samples) if X is None else X
        est = make_estimator(space, m, settings["objective"], settings, units.get(m, ""))
        y = samples[m].to_numpy(dtype=float)
        ok = np.isfinite(y)
        fitted[m] = est.fit(X[ok], y[ok]).form_
        origin[m] = "refitted from the samples"
    objective = settings["objective"]
    samples, lookups = split_lookups(samples, objective)
    scenarios = [dict(s) for s in settings.get("scenarios") or [{}]]
    best = [best_measured(space, samples, objective, s, fitted[objective], units)
            for s in scenarios]
    history = []
    for r, part in samples.groupby("round", sort=True):
        history.append({"round": int(r), "planned": len(part), "measured": len(part),
                        "total": int((samples["round"] <= r).sum())})
    run_settings = {**settings, "models": origin}
    return CalibrationRun(space, objective, scenarios, samples, fitted, best, Path(st.path),
                          run_settings, history, lookups=lookups)


def _given(models, space, metrics) -> dict[str, tuple[QuadraticForm, str]]:
    if models is None:
        return {}
    out = {}
    if isinstance(models, Mapping):
        for m, form in models.items():
            if not isinstance(form, QuadraticForm):
                raise InputError(f"model {m!r} must be a QuadraticForm, got "
                                 f"{type(form).__name__}")
            out[str(m)] = (form, "given")
    else:
        folder = Path(models)
        if not folder.is_dir():
            raise InputError(f"models directory not found: {folder} (the --save-models DIR "
                             "of iqnas calibrate)")
        for path in sorted([*folder.glob("*.json"), *folder.glob("*.npz")]):
            if path.stem in out:
                raise InputError(f"{folder} holds {path.stem}.json and {path.stem}.npz; keep one")
            try:
                form = QuadraticForm.load(path)
            except InputError as exc:
                raise InputError(f"model {path}: {exc}") from None
            out[path.stem] = (form, f"loaded from {path}")
        if not out:
            raise InputError(f"models directory {folder} holds no <metric>.json form")
    for m, (form, _) in out.items():
        if form.space.name != space.name:
            raise InputError(f"model {m!r} is for space {form.space.name!r}, the store holds "
                             f"samples of {space.name!r}; give the models of this run")
    unknown = sorted(set(out) - set(metrics))
    if unknown:
        log.info("models %s are not metrics of the run (%s); ignored", unknown,
                 ", ".join(metrics))
    return {m: v for m, v in out.items() if m in metrics}
