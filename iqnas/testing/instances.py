"""Seeded benchmark instances for the solver and searcher benchmarks (`benchmarks/`) and the tests.

Families (``make(name, seed)``):

``binas``
    The BINAS estimator form over the ``mobilenet`` space. Stage ``s``, block ``b`` (1..4),
    option ``o`` and depth ``d`` in {2, 3, 4} give the bilinear term
    ``a[s,b,o] * x[s.b=o] * x[s.depth=d]`` whenever block ``b`` is active at depth ``d``
    (``b <= d``), with ``a ~ N(0.3, 0.2)``; depth options get linear terms ``~ N(0, 0.2)``.
    Blocks 1 and 2 are active at every depth, so their sum over depths equals the linear term
    ``a[s,b,o] * x[s.b=o]`` (that is how it is stored: the same function with fewer products).
    The latency constraint has the same bilinear form with per-block costs ``~ U(0.5, 1.5)``; its
    budget is the 40 % quantile of latency over 10,000 uniformly sampled architectures.
``chain-<k>``
    ``binas`` plus pairwise terms ``~ N(0, k)`` (``k`` is the standard deviation) between every
    option pair of consecutive block positions in the flattened order
    ``s1.b1, s1.b2, s1.b3, s1.b4, s2.b1, ..., s5.b4`` (19 group pairs x 144 terms): within a stage
    ``b -> b+1`` and across a stage boundary ``s.b4 -> s+1.b1``. An inactive block is encoded as
    its option 0, so a term with option 0 of an inactive block still counts (the form is a
    function of the one-hot vector).
``dense-<k>``
    ``binas`` plus pairwise terms ``~ N(0, k)`` between every option pair of every two block
    groups (190 group pairs x 144 terms).
``nb201-dense``
    NAS-Bench-201 space: linear ``~ N(0, 1)`` and pairwise ``~ N(0, 0.3)`` between every two
    edges (15 group pairs x 25), maximised under two nonnegative resource forms (linear
    ``~ U(0, 1)``, pairwise ``~ U(0, 0.2)``); budgets at the 40 % / 60 % quantiles over all
    15,625 cells.

``nb201-fitted``
    A real calibration result on NAS-Bench-201: the pairwise ``QuadraticRegressor`` (ridge
    penalty by cross-validation) fitted on all 15,625 CIFAR-100 test accuracies of the embedded
    table, under ``LinearResourceModel`` fits of FPGA latency (then Raspberry Pi 4 latency and
    parameters); seed ``s`` puts each budget at the ``0.1 + 0.2 * (s % 5)`` quantile of the
    resource's true values.

``n_constraints`` (1..3) picks the resources ``latency``, ``memory``, ``energy`` in that order.
On ``mobilenet`` memory and energy have the latency's bilinear form with their own random
per-block costs (``U(0.2, 2.0)`` and ``U(0.5, 1.5)``), budgets at their own 40 % quantile.

Every random piece comes from its own stream ``default_rng([seed, tag])``, so e.g. the ``binas``
part of ``chain-0.1`` seed 3 is exactly ``binas`` seed 3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

import iqnas
from iqnas.errors import InputError
from iqnas.spaces.mobilenet import N_BLOCKS, N_STAGES, block_group, depth_group

FAMILIES = ("binas", "chain-0.05", "chain-0.1", "dense-0.01", "dense-0.02", "nb201-dense",
            "nb201-fitted")
#: table columns of the nb201-fitted family: the objective, then its resources in order
FITTED_OBJECTIVE = "test_acc_c100"
FITTED_RESOURCES = ("help_lat_fpga", "help_lat_raspi4", "params_M_c100")
RESOURCES = ("latency", "memory", "energy")
#: quantile of each resource over random architectures that sets its budget
QUANTILE = {"latency": 0.4, "memory": 0.4, "energy": 0.4}
NB201_QUANTILE = {"latency": 0.4, "memory": 0.6, "energy": 0.5}
#: architectures sampled to set a mobilenet budget
N_BUDGET_SAMPLES = 10_000
#: (low, high) of the uniform per-block costs of each mobilenet resource
COST_RANGE = {"latency": (0.5, 1.5), "memory": (0.2, 2.0), "energy": (0.5, 1.5)}
# stream tags: one independent random stream per piece
_TAG = {"acc": 1, "depth": 2, "pairwise": 3, "budget": 4, "latency": 11, "memory": 12,
        "energy": 13, "nb_obj": 21}
_NAME = re.compile(r"^(chain|dense)-(\d+(?:\.\d*)?|\.\d+)$")


@dataclass
class Instance:
    """A generated problem and the pieces it was made from."""

    name: str
    seed: int
    problem: iqnas.Problem
    objective: iqnas.QuadraticForm
    resources: dict[str, iqnas.QuadraticForm]
    budgets: dict[str, float]
    pieces: dict[str, np.ndarray] = field(default_factory=dict)


def rng(seed: int, tag: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), _TAG[tag]])


def parse(name: str) -> tuple[str, float | None]:
    """``"chain-0.1"`` -> ``("chain", 0.1)``; ``"binas"`` -> ``("binas", None)``."""
    if name in ("binas", "nb201-dense", "nb201-fitted"):
        return name, None
    m = _NAME.match(name)
    if not m:
        raise InputError(f"unknown instance family {name!r}; use binas, nb201-dense, nb201-fitted, "
                         "chain-<k> or dense-<k> (k = pairwise std, e.g. chain-0.1)")
    return m.group(1), float(m.group(2))


def make(name: str, seed: int, n_constraints: int | None = None) -> iqnas.Problem:
    """The problem of family ``name`` and ``seed`` (see the module docstring)."""
    return make_instance(name, seed, n_constraints).problem


def make_instance(name: str, seed: int, n_constraints: int | None = None) -> Instance:
    kind, k = parse(name)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if n_constraints is None:
        n_constraints = 2 if kind == "nb201-dense" else 1
    if kind == "nb201-fitted":
        return _nb201_fitted(name, int(seed), n_constraints)
    if not 1 <= n_constraints <= len(RESOURCES):
        raise InputError(f"n_constraints must be 1..{len(RESOURCES)}, got {n_constraints}")
    names = RESOURCES[:n_constraints]
    if kind == "nb201-dense":
        return _nb201(name, int(seed), names)
    space = iqnas.spaces.get("mobilenet")
    a, depth_lin = binas_coefficients(seed)
    obj = binas_form(space, a, depth_lin, name="accuracy")
    pieces = {"a": a, "depth_linear": depth_lin}
    if kind != "binas":
        pairs = chain_pairs() if kind == "chain" else dense_pairs()
        obj = obj + pairwise_form(space, pairs, k, rng(seed, "pairwise"))
        obj = obj.copy(name="accuracy")
    resources, budgets = {}, {}
    for r in names:
        cost = block_costs(seed, r)
        pieces[f"cost_{r}"] = cost
        resources[r] = binas_form(space, cost, np.zeros((N_STAGES, 3)), name=r)
        budgets[r] = mobilenet_budget(resources[r], seed, QUANTILE[r])
    problem = iqnas.Problem(space, obj, {r: (resources[r], budgets[r]) for r in names},
                            name=f"{name}/seed{seed}")
    return Instance(name, int(seed), problem, obj, resources, budgets, pieces)


# ---- mobilenet pieces ------------------------------------------------------------------------
def binas_coefficients(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``a[s, b, o] ~ N(0.3, 0.2)`` (5, 4, 12) and depth linear terms ``~ N(0, 0.2)`` (5, 3)."""
    a = rng(seed, "acc").normal(0.3, 0.2, size=(N_STAGES, N_BLOCKS, 12))
    d = rng(seed, "depth").normal(0.0, 0.2, size=(N_STAGES, 3))
    return a, d


def block_costs(seed: int, resource: str) -> np.ndarray:
    lo, hi = COST_RANGE[resource]
    return rng(seed, resource).uniform(lo, hi, size=(N_STAGES, N_BLOCKS, 12))


def binas_form(space: iqnas.SearchSpace, a: np.ndarray, depth_lin: np.ndarray,
               name: str = "") -> iqnas.QuadraticForm:
    """``sum a[s,b,o] x[s.b=o] x[s.depth=d]`` over active ``(b, d)`` plus depth linear terms."""
    lin = np.zeros(space.n_vars)
    rows, cols, vals = [], [], []
    for s in range(1, N_STAGES + 1):
        dg = space.group_index(depth_group(s))
        lin[space.offsets[dg]:space.offsets[dg] + 3] += depth_lin[s - 1]
        for b in range(1, N_BLOCKS + 1):
            g = space.group_index(block_group(s, b))
            opts = space.offsets[g] + np.arange(12)
            coef = a[s - 1, b - 1]
            if b <= 2:  # active at every depth: the sum over depths is linear
                lin[opts] += coef
                continue
            for di, d in enumerate((2, 3, 4)):
                if b <= d:
                    rows += list(opts)
                    cols += [space.offsets[dg] + di] * 12
                    vals += list(coef)
    n = space.n_vars
    pw = sp.coo_matrix((vals, (rows, cols)), shape=(n, n))
    return iqnas.QuadraticForm(space, 0.0, lin, pw, name=name)


def block_groups() -> list[str]:
    """Block positions in the flattened order s1.b1, s1.b2, ..., s5.b4."""
    return [block_group(s, b) for s in range(1, N_STAGES + 1) for b in range(1, N_BLOCKS + 1)]


def chain_pairs() -> list[tuple[str, str]]:
    g = block_groups()
    return list(zip(g[:-1], g[1:]))


def dense_pairs() -> list[tuple[str, str]]:
    g = block_groups()
    return [(g[i], g[j]) for i in range(len(g)) for j in range(i + 1, len(g))]


def pairwise_form(space: iqnas.SearchSpace, pairs, std: float,
                  gen: np.random.Generator) -> iqnas.QuadraticForm:
    """Terms ``~ N(0, std)`` between every option pair of each group pair (in ``pairs`` order)."""
    rows, cols, vals = [], [], []
    for ga, gb in pairs:
        ia, ib = space.group_index(ga), space.group_index(gb)
        na, nb = space.sizes[ia], space.sizes[ib]
        block = gen.normal(0.0, std, size=(na, nb))
        r, c = np.meshgrid(np.arange(na), np.arange(nb), indexing="ij")
        rows.append(space.offsets[ia] + r.ravel())
        cols.append(space.offsets[ib] + c.ravel())
        vals.append(block.ravel())
    n = space.n_vars
    pw = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(n, n))
    return iqnas.QuadraticForm(space, 0.0, None, pw)


def budget_sample(space: iqnas.SearchSpace, seed: int) -> np.ndarray:
    """The seeded architectures (option indices) whose resource quantiles set the budgets."""
    return space.sample_choices(rng(seed, "budget"), N_BUDGET_SAMPLES)


def mobilenet_budget(form: iqnas.QuadraticForm, seed: int, q: float) -> float:
    vals = form.evaluate(choices=budget_sample(form.space, seed))
    return max(float(np.quantile(vals, q)), 0.0)


# ---- nb201 ----------------------------------------------------------------------------------
def _nb201(name: str, seed: int, names) -> Instance:
    space = iqnas.spaces.get("nb201")
    g = rng(seed, "nb_obj")
    groups = [grp.name for grp in space.groups]
    all_pairs = [(groups[i], groups[j]) for i in range(6) for j in range(i + 1, 6)]
    obj = iqnas.QuadraticForm(space, 0.0, g.normal(0.0, 1.0, space.n_vars))
    obj = obj + pairwise_form(space, all_pairs, 0.3, g)
    obj = obj.copy(name="accuracy")
    every = space.enumerate_choices()
    resources, budgets = {}, {}
    for r in names:
        gr = rng(seed, r)
        lin = gr.uniform(0.0, 1.0, space.n_vars)
        pw = np.triu(gr.uniform(0.0, 0.2, (space.n_vars, space.n_vars)), 1)
        resources[r] = iqnas.QuadraticForm(space, 0.0, lin, pw, name=r)
        budgets[r] = max(float(np.quantile(resources[r].evaluate(choices=every),
                                           NB201_QUANTILE[r])), 0.0)
    problem = iqnas.Problem(space, obj, {r: (resources[r], budgets[r]) for r in names},
                            name=f"{name}/seed{seed}")
    return Instance(name, seed, problem, obj, resources, budgets, {})


_FITTED: dict[str, iqnas.QuadraticForm] = {}


def _fitted_forms() -> dict[str, iqnas.QuadraticForm]:
    """The nb201-fitted models (fitted once per process)."""
    if not _FITTED:
        from iqnas.calibration import LinearResourceModel, QuadraticRegressor

        table = iqnas.oracles.nb201("cifar100").table()
        space = iqnas.spaces.get("nb201")
        X = space.choices_to_onehot(np.array([space.parse_key(k).choices for k in table.index]))
        _FITTED[FITTED_OBJECTIVE] = QuadraticRegressor(space, name="accuracy").fit(
            X, table[FITTED_OBJECTIVE].to_numpy()).form_
        for r in FITTED_RESOURCES:
            _FITTED[r] = LinearResourceModel(space, name=r).fit(X, table[r].to_numpy()).form_
            _FITTED[f"{r}/true"] = table[r].to_numpy()
    return _FITTED


def _nb201_fitted(name: str, seed: int, n_constraints: int) -> Instance:
    forms = _fitted_forms()
    q = 0.1 + 0.2 * (seed % 5)
    names = FITTED_RESOURCES[:n_constraints]
    budgets = {r: float(np.quantile(forms[f"{r}/true"], q)) for r in names}
    problem = iqnas.Problem(forms[FITTED_OBJECTIVE].space, forms[FITTED_OBJECTIVE],
                            {r: (forms[r], budgets[r]) for r in names}, name=f"{name}/seed{seed}")
    return Instance(name, seed, problem, forms[FITTED_OBJECTIVE],
                    {r: forms[r] for r in names}, budgets, {})
