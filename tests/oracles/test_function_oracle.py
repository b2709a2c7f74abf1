"""FunctionOracle: seeded calls, failures as MeasurementErrors (never numbers), pickling."""

from __future__ import annotations

import functools
import pickle
import random

import measure_helpers as mh
import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError, MeasurementError
from iqnas.oracles import FunctionOracle
from iqnas.oracles.function_oracle import arch_seed

SPACE = iqnas.spaces.get("nb201")


def test_each_call_is_seeded_by_the_oracle_seed_and_the_key():
    o = FunctionOracle("measure_helpers:noisy", ["draw", "seed"], SPACE, seed=3)
    a, b = SPACE.sample(0, n=2)
    first, again, other = o.measure(a), o.measure(a.key), o.measure(b)
    assert first == again and first["draw"] != other["draw"]
    assert first["seed"] == arch_seed(3, a.key)
    assert first["draw"] == np.random.RandomState(arch_seed(3, a.key)).random_sample()
    assert FunctionOracle(mh.noisy, ["draw", "seed"], SPACE, seed=4).measure(a) != first


def test_the_global_generators_are_restored():
    np.random.seed(11)
    random.seed(11)
    expected_np, expected_py = np.random.random(), random.random()
    np.random.seed(11)
    random.seed(11)
    FunctionOracle(mh.noisy, ["draw", "seed"], SPACE).measure(SPACE.sample(0))
    assert np.random.random() == expected_np and random.random() == expected_py


def test_a_function_without_a_seed_argument_is_called_with_the_architecture_only():
    o = FunctionOracle(mh.score, ["score"], SPACE)
    arch = SPACE.sample(5)
    assert o.measure(arch) == mh.score(arch)
    assert o.measure(arch, metrics=["score"]) == mh.score(arch)


@pytest.mark.parametrize("fn, match", [
    (mh.raising_builder, "failed on .*ValueError: this builder always fails"),
    (functools.partial(mh.nan_for, victim=None), None),
    (lambda arch: {"other": 1.0}, "returned no value of 'score'"),
    (lambda arch: {"score": float("inf")}, "must be a finite number"),
    (lambda arch: {"score": "high"}, "not a number"),
    (lambda arch: [1.0], "returned a list"),
])
def test_failures_raise_measurement_errors_naming_the_architecture(fn, match):
    arch = SPACE.sample(1)
    if match is None:  # nan for the victim only
        fn = functools.partial(mh.nan_for, victim=arch.key)
        match = "score = nan"
    with pytest.raises(MeasurementError, match=match) as exc:
        FunctionOracle(fn, ["score"], SPACE).measure(arch)
    assert arch.key in str(exc.value) and "\n" not in str(exc.value)


def test_without_a_space_it_measures_architecture_objects():
    o = FunctionOracle(mh.score, ["score"])
    arch = SPACE.sample(2)
    assert o.measure(arch) == mh.score(arch)
    with pytest.raises(InputError, match="has no space"):
        o.measure(arch.key)


def test_a_module_function_spec_pickles_as_its_name():
    o = FunctionOracle("measure_helpers:score", ["score"], SPACE, units={"score": "%"})
    back = pickle.loads(pickle.dumps(o))
    arch = SPACE.sample(3)
    assert back.measure(arch) == o.measure(arch) and back.units == {"score": "%"}


@pytest.mark.parametrize("kw, match", [
    (dict(fn="no_such_mod_q:f", metrics=["a"]), "does not import"),
    (dict(fn=mh.score, metrics=[]), "metrics must list"),
    (dict(fn=mh.score, metrics=["a", "a"]), "twice"),
    (dict(fn=mh.score, metrics=["a"], units={"b": "s"}), "not a metric"),
])
def test_bad_construction(kw, match):
    with pytest.raises(InputError, match=match):
        FunctionOracle(**kw)
