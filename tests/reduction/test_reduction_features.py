"""Op-usage features are exact linear functions of the one-hot vector (also with conditional
groups), checked against counts recomputed from each architecture's active choices."""

from __future__ import annotations

import re

import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError
from iqnas.reduction.features import LinearFeatures, active_indicators, op_usage_features
from iqnas.space import Group, SearchSpace
from iqnas.spaces.nb201 import OPS


def test_nb201_features_are_op_counts_on_every_cell(nb201):
    f = op_usage_features(nb201.space)
    assert f.names == OPS
    raw = f.raw(nb201.X)
    expected = np.stack([(nb201.choices == o).sum(axis=1) for o in range(len(OPS))], axis=1)
    assert np.array_equal(raw, expected)


def _mobilenet_counts(arch) -> dict[str, int]:
    act = arch.active()
    out = {}
    for s in range(1, 6):
        depth = int(act[f"s{s}.depth"])
        opts = [act[f"s{s}.b{b}"] for b in range(1, depth + 1)]
        out[f"s{s}.depth"] = depth
        for k in (3, 5):
            out[f"s{s}.k{k}"] = sum(f"_k{k}" in o for o in opts)
        for e in (3, 4, 6):
            out[f"s{s}.e{e}"] = sum(o.startswith(f"e{e}_") for o in opts)
        out[f"s{s}.se"] = sum(o.endswith("_se") for o in opts)
    return out


def _ofa_counts(arch) -> dict[str, int]:
    act = arch.active()
    out = {"res": int(act["res"])}
    for s in range(1, 6):
        depth = int(act[f"s{s}.depth"])
        out[f"s{s}.depth"] = depth
        for part, values in (("k", "357"), ("e", "346")):
            got = [act[f"s{s}.b{b}.{part}"] for b in range(1, depth + 1)]
            for v in values:
                out[f"s{s}.{part}{v}"] = got.count(v)
    return out


@pytest.mark.parametrize("name,truth", [("mobilenet", _mobilenet_counts), ("ofa", _ofa_counts)])
def test_macro_features_count_active_blocks_only(name, truth):
    space = iqnas.spaces.get(name)
    f = op_usage_features(space)
    archs = space.sample(0, 300)
    # depth-2 stages everywhere: inactive blocks hold option 0 and must not be counted
    archs.append(space.arch({**{g.name: g.options[-1] for g in space.groups
                                if g.active_if is None},
                             **{g.name: "2" for g in space.groups if g.name.endswith("depth")}}))
    raw = f.raw(np.stack([a.x for a in archs]))
    for a, row in zip(archs, raw):
        want = truth(a)
        assert dict(zip(f.names, row.tolist())) == {n: float(want[n]) for n in f.names}


def test_active_indicators_on_conditional_groups():
    space = iqnas.spaces.get("mobilenet")
    A = active_indicators(space)
    for a in space.sample(1, 200):
        ind = A @ a.x
        act = space.activity(a)
        want = np.zeros(space.n_vars)
        for g, (c, on) in enumerate(zip(a.choices, act)):
            if on:
                want[space.offsets[g] + c] = 1.0
        assert np.array_equal(ind, want)


def test_generic_space_counts_options_per_family():
    space = SearchSpace("toy", [Group("ctrl", ("a", "b")), Group("x", ("p", "q")),
                                Group("y", ("p", "q"), active_if=("ctrl", frozenset({"b"})))])
    f = op_usage_features(space)
    assert f.names == ("ctrl~a", "ctrl~b", "x~p", "x~q")
    for choices in space.enumerate_choices():
        a = space.arch(choices.tolist())
        act = a.active()  # y is left out when ctrl = a
        row = dict(zip(f.names, f.raw(a.x[None])[0].tolist()))
        assert row["ctrl~a"] == (act["ctrl"] == "a") and row["ctrl~b"] == (act["ctrl"] == "b")
        for opt in "pq":
            assert row[f"x~{opt}"] == sum(act.get(g) == opt for g in ("x", "y"))


def test_fit_scaling_uses_powers_of_two_and_a_grid_center():
    space = iqnas.spaces.get("ofa")
    C = space.sample_choices(0, 2000)
    f = op_usage_features(space).fit_scaling(C, 2.0 ** -4)
    assert np.array_equal(np.log2(f.weights), np.round(np.log2(f.weights)))
    assert f.weights[f.names.index("res")] < 0.1  # the resolution (std ~22) is scaled down
    z = f.of_choices(C)
    assert np.all(np.abs(z.mean(axis=0)) <= 2.0 ** -5 + 1e-12)
    assert np.all(np.abs(np.log2(z.std(axis=0))) <= 0.5 + 1e-9)


@pytest.mark.parametrize("bad", [{"matrix": 0.5}, {"weights": 3.0}, {"weights": -1.0}])
def test_linear_features_validate(bad):
    space = iqnas.spaces.get("nb201")
    kw = {"matrix": np.ones((1, space.n_vars)), "weights": np.ones(1)}
    kw.update({k: np.full_like(kw[k], v) for k, v in bad.items()})
    with pytest.raises(InputError, match=re.compile("integers|powers of two")):
        LinearFeatures(space, ("f",), ("op",), kw["matrix"], kw["weights"])
