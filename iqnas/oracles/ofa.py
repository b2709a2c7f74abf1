"""OFA MobileNetV3 oracle: OFA's released accuracy predictor and Note10 latency lookup tables.

Both are evaluated in numpy from derived files under ``iqnas/data`` (see DATA.md):

- ``acc_ofa_pred`` (%): 100 x the output of OFA's released 128-400-400-400-1 ReLU MLP. Its input
  is OFA's tutorial encoding: a 3-way one-hot of the kernel (3, 5, 7) of each of the 20 block
  positions (60 inputs), the same for the expansion (3, 4, 6; 60 inputs), both all-zero for
  blocks beyond a stage's depth, then a one-hot of ``(r - 112) // 16`` (8 inputs). The released
  predictor has no base-accuracy offset.
- ``lat_note10_ms`` (ms): the sum of Note10 LUT means over the layers of the network, walked as
  OFA's ``LatencyEstimator.predict_network_latency_given_spec`` does: first conv, first block,
  each active MBConv block, final expand conv, average pool, feature mix conv, classifier.

``ofa_latency_form(resolution)`` is the exact latency as a QuadraticForm at one resolution, and
``resolution_constraint(resolution)`` pins the ``res`` group for a Problem.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from importlib import resources

import numpy as np
import pandas as pd
import scipy.sparse as sparse

from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle
from iqnas.problem import LinearConstraint
from iqnas.quadform import QuadraticForm
from iqnas.space import Architecture, SearchSpace
from iqnas.spaces import ofa as ofa_space

ACC = "acc_ofa_pred"
LAT = "lat_note10_ms"
PARAMS = "params_M"
PREDICTOR_FILE = "ofa_acc_predictor.npz"
LUT_FILE = "ofa_note10_lut.json"
N_POS = ofa_space.N_STAGES * ofa_space.N_BLOCKS
# OFA MobileNetV3 w1.2 macro-architecture, as in OFA's latency walk
FIRST_CHANNELS = 24
STAGE_STRIDES = (2, 2, 2, 1, 2)
STAGE_WIDTHS = (32, 48, 96, 136, 192)
STAGE_HSWISH = (0, 0, 1, 1, 1)
STAGE_SE = (0, 1, 0, 1, 1)
FINAL_EXPAND = 1152
FEATURE_MIX = 1536
N_CLASSES = 1000
_BATCH = 20_000


# ---- data --------------------------------------------------------------------------------------
@functools.cache
def load_predictor() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The MLP's (weight, bias) per linear layer, float64 copies of the stored float32 values."""
    with resources.files("iqnas").joinpath("data", PREDICTOR_FILE).open("rb") as fh:
        with np.load(fh, allow_pickle=False) as z:
            layers = tuple((z[f"w{i}"].astype(np.float64), z[f"b{i}"].astype(np.float64))
                           for i in range(4))
    return layers


@functools.cache
def load_lut() -> dict[int, dict[str, float]]:
    """Note10 LUT means (ms) per resolution, keyed by OFA's layer descriptor strings."""
    text = resources.files("iqnas").joinpath("data", LUT_FILE).read_text()
    data = json.loads(text)
    return {int(r): {k: float(v) for k, v in table.items()} for r, table in data["tables"].items()}


# ---- OFA's layer descriptors -------------------------------------------------------------------
def _shape(*dims: int) -> str:
    return "x".join(str(d) for d in dims)


def layer_key(kind: str, inp: tuple[int, ...], out: tuple[int, ...], mid: int | None = None,
              kernel: int | None = None, stride: int | None = None, idskip: int | None = None,
              se: int | None = None, hs: int | None = None) -> str:
    """The LUT key of one layer, in OFA's ``LatencyEstimator.query`` format."""
    parts = [kind, f"input:{_shape(*inp)}", f"output:{_shape(*out)}"]
    if kind == "expanded_conv":
        parts += [f"expand:{mid}", f"kernel:{kernel}", f"stride:{stride}", f"idskip:{idskip}",
                  f"se:{se}", f"hs:{hs}"]
    return "-".join(parts)


def network_layers(resolution: int) -> tuple[list[str], list[list[list[str]]]]:
    """LUT keys of the fixed layers, and per block position a [kernel][expansion] grid of keys."""
    r = int(resolution)
    f = (r + 1) // 2
    fixed = [layer_key("Conv", (r, r, 3), (f, f, FIRST_CHANNELS)),
             layer_key("expanded_conv", (f, f, FIRST_CHANNELS), (f, f, FIRST_CHANNELS),
                       mid=FIRST_CHANNELS, kernel=3, stride=1, idskip=1, se=0, hs=0)]
    blocks = []
    c_in = FIRST_CHANNELS
    for s in range(ofa_space.N_STAGES):
        c_out = STAGE_WIDTHS[s]
        for b in range(ofa_space.N_BLOCKS):
            stride = STAGE_STRIDES[s] if b == 0 else 1
            f_out = (f - 1) // stride + 1
            blocks.append([[layer_key("expanded_conv", (f, f, c_in), (f_out, f_out, c_out),
                                      mid=round(c_in * int(e)), kernel=int(k), stride=stride,
                                      idskip=int(b > 0), se=STAGE_SE[s], hs=STAGE_HSWISH[s])
                            for e in ofa_space.EXPANSIONS] for k in ofa_space.KERNELS])
            f, c_in = f_out, c_out
    fixed += [layer_key("Conv_1", (f, f, c_in), (f, f, FINAL_EXPAND)),
              layer_key("AvgPool2D", (f, f, FINAL_EXPAND), (1, 1, FINAL_EXPAND)),
              layer_key("Conv_2", (1, 1, FINAL_EXPAND), (1, 1, FEATURE_MIX)),
              layer_key("Logits", (1, 1, FEATURE_MIX), (N_CLASSES,))]
    return fixed, blocks


@functools.cache
def latency_tables() -> tuple[np.ndarray, np.ndarray]:
    """``fixed[r]`` (ms) and ``block[r, position, kernel, expansion]`` (ms) over RESOLUTIONS."""
    lut = load_lut()
    res = [int(r) for r in ofa_space.RESOLUTIONS]
    fixed = np.zeros(len(res))
    block = np.zeros((len(res), N_POS, len(ofa_space.KERNELS), len(ofa_space.EXPANSIONS)))
    for ri, r in enumerate(res):
        if r not in lut:
            raise InputError(f"the Note10 LUT has no table for resolution {r}")
        fixed_keys, block_keys = network_layers(r)
        try:
            fixed[ri] = sum(lut[r][k] for k in fixed_keys)
            for p, grid in enumerate(block_keys):
                for ki, row in enumerate(grid):
                    for ei, key in enumerate(row):
                        block[ri, p, ki, ei] = lut[r][key]
        except KeyError as exc:
            raise InputError(f"the Note10 LUT at {r} lacks layer {exc.args[0]!r}") from None
    return fixed, block


# ---- choice-array layout -----------------------------------------------------------------------
class _Layout:
    """Column indices of the ofa space's groups in a choices array."""

    def __init__(self, space: SearchSpace) -> None:
        gi = space.group_index
        stages = range(1, ofa_space.N_STAGES + 1)
        blocks = range(1, ofa_space.N_BLOCKS + 1)
        self.k = np.array([gi(ofa_space.kernel_group(s, b)) for s in stages for b in blocks])
        self.e = np.array([gi(ofa_space.expand_group(s, b)) for s in stages for b in blocks])
        self.d = np.array([gi(ofa_space.depth_group(s)) for s in stages])
        self.r = gi(ofa_space.RES_GROUP)
        self.block_index = np.tile(np.arange(ofa_space.N_BLOCKS), ofa_space.N_STAGES)
        self.stage_index = np.repeat(np.arange(ofa_space.N_STAGES), ofa_space.N_BLOCKS)

    def active(self, C: np.ndarray) -> np.ndarray:
        """(n, 20) bool: block position active (depth option index + 2 > block index)."""
        depth = C[:, self.d][:, self.stage_index] + int(ofa_space.DEPTHS[0])
        return self.block_index[None, :] < depth


# ---- oracle ------------------------------------------------------------------------------------
class OFABenchmark(Oracle):
    """OFA MobileNetV3: predicted ImageNet top-1 (%) and Note10 latency (ms)."""

    name = "ofa"

    def __init__(self, space: SearchSpace | None = None) -> None:
        self.space = space if space is not None else get_space()
        if self.space.name != "ofa" or self.space.n_vars != get_space().n_vars:
            raise InputError(f"OFABenchmark needs the 'ofa' space, got {self.space.name!r}")
        self._layout = _Layout(self.space)

    @property
    def metrics(self) -> list[str]:
        return [ACC, LAT]

    @property
    def units(self) -> dict[str, str]:
        return {ACC: "%", LAT: "ms"}

    def measure(self, arch: Architecture | str,
                metrics: Sequence[str] | None = None) -> dict[str, float]:
        a = self.space.to_arch(arch)
        row = self.measure_choices(np.asarray([a.choices]), metrics)
        return {m: float(v[0]) for m, v in row.items()}

    def measure_many(self, archs: Iterable[Architecture | str] | np.ndarray,
                     metrics: Sequence[str] | None = None) -> pd.DataFrame:
        arch_list = self.as_archs(archs)
        C = np.asarray([a.choices for a in arch_list], dtype=np.int64).reshape(-1,
                                                                                 self.space.n_groups)
        vals = self.measure_choices(C, metrics)
        index = pd.Index([a.key for a in arch_list], name="key")
        return pd.DataFrame(vals, index=index, columns=list(vals), dtype=float)

    def measure_choices(self, choices: np.ndarray,
                        metrics: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Vectorised metrics (all, or the subset ``metrics``) of an (n, n_groups) array of
        canonical option indices."""
        C = self._check(choices)
        compute = {ACC: self.accuracy_choices, LAT: self.latency_choices}
        return {m: compute[m](C) for m in self.wanted(metrics)}

    def predictor_features(self, choices: np.ndarray) -> np.ndarray:
        """OFA's 128-dim predictor input for each row (float64 zeros and ones)."""
        C = self._check(choices)
        lay = self._layout
        n = C.shape[0]
        act = lay.active(C)
        X = np.zeros((n, 128))
        rows, pos = np.nonzero(act)
        X[rows, 3 * pos + C[rows, lay.k[pos]]] = 1.0
        X[rows, 60 + 3 * pos + C[rows, lay.e[pos]]] = 1.0
        res = np.asarray([int(r) for r in ofa_space.RESOLUTIONS])[C[:, lay.r]]
        X[np.arange(n), 120 + (res - 112) // 16] = 1.0
        return X

    def accuracy_choices(self, choices: np.ndarray) -> np.ndarray:
        """Predicted top-1 accuracy in % (100 x the MLP output)."""
        C = self._check(choices)
        out = np.empty(C.shape[0])
        for start in range(0, C.shape[0], _BATCH):
            out[start:start + _BATCH] = 100.0 * predictor_output(
                self.predictor_features(C[start:start + _BATCH]))
        return out

    def latency_choices(self, choices: np.ndarray) -> np.ndarray:
        """Note10 latency in ms."""
        C = self._check(choices)
        lay = self._layout
        fixed, block = latency_tables()
        r = C[:, lay.r]
        per_block = block[r[:, None], np.arange(N_POS)[None, :], C[:, lay.k], C[:, lay.e]]
        return fixed[r] + np.where(lay.active(C), per_block, 0.0).sum(axis=1)

    def _check(self, choices: np.ndarray) -> np.ndarray:
        C = np.asarray(choices)
        if C.ndim != 2 or C.shape[1] != self.space.n_groups:
            raise InputError(f"choices must be an (n, {self.space.n_groups}) array, got shape "
                             f"{C.shape}")
        if not np.issubdtype(C.dtype, np.integer):
            raise InputError("choices must be integer option indices")
        C = C.astype(np.int64)
        if C.size and ((C < 0).any() or (C >= self.space.sizes[None, :]).any()):
            bad = int(np.argwhere((C < 0) | (C >= self.space.sizes[None, :]))[0, 1])
            raise InputError(f"choices column {bad} ({self.space.groups[bad].name!r}) is out of "
                             f"range 0..{self.space.sizes[bad] - 1}")
        return C


def predictor_output(X: np.ndarray) -> np.ndarray:
    """Raw MLP output (a fraction, about 0.75..0.84) for (n, 128) feature rows."""
    layers = load_predictor()
    h = np.asarray(X, dtype=np.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if i < len(layers) - 1:
            np.maximum(h, 0.0, out=h)
    return h[:, 0]


# ---- resource forms ----------------------------------------------------------------------------
def _resolution_index(resolution: int | str) -> int:
    r = str(resolution)
    if r not in ofa_space.RESOLUTIONS:
        raise InputError(f"resolution {resolution!r} is not covered by the Note10 LUT; use one of "
                         f"{', '.join(ofa_space.RESOLUTIONS)}")
    return ofa_space.RESOLUTIONS.index(r)


def ofa_latency_form(resolution: int | str = 224,
                     space: SearchSpace | None = None) -> QuadraticForm:
    """Note10 latency (ms) as an exact QuadraticForm, valid for architectures at ``resolution``.

    Per block position the LUT entry T[k, e] is split into its mean (intercept), kernel and
    expansion main effects (linear) and a kernel x expansion interaction (pairwise). Blocks 3/4
    are removed at lower depths by a linear term ``-T[k3, e3]`` on each depth option that makes
    them inactive: this is exact because the space encodes inactive blocks as (k3, e3). The
    ``res`` group carries no coefficient, so pin it with ``resolution_constraint(resolution)``
    (or loop over resolutions) when the form is used as a budget.
    """
    ri = _resolution_index(resolution)
    fixed, block = latency_tables()
    return _block_table_form(space, float(fixed[ri]), block[ri], LAT, "ms")


def _block_table_form(space: SearchSpace | None, fixed: float, table: np.ndarray, name: str,
                      units: str) -> QuadraticForm:
    """``fixed + sum over active block positions p of table[p, kernel, expansion]`` as an exact
    QuadraticForm (main effects linear, kernel x expansion interaction pairwise, blocks beyond a
    stage's depth removed by linear terms on the depth options)."""
    sp = space if space is not None else get_space()
    lay = _Layout(sp)
    lin = np.zeros(sp.n_vars)
    rows, cols, vals = [], [], []
    intercept = float(fixed)
    for p in range(N_POS):
        T = table[p]
        m = T.mean()
        a = T.mean(axis=1) - m
        b = T.mean(axis=0) - m
        R = T - m - a[:, None] - b[None, :]
        intercept += m
        ko, eo = sp.offsets[lay.k[p]], sp.offsets[lay.e[p]]
        lin[ko:ko + len(a)] += a
        lin[eo:eo + len(b)] += b
        for ki in range(R.shape[0]):
            for ei in range(R.shape[1]):
                if R[ki, ei] != 0.0:
                    rows.append(ko + ki)
                    cols.append(eo + ei)
                    vals.append(R[ki, ei])
        block_no = int(lay.block_index[p]) + 1
        dg = lay.d[lay.stage_index[p]]
        for di, d in enumerate(ofa_space.DEPTHS):
            if int(d) < block_no:
                lin[sp.offsets[dg] + di] -= T[0, 0]
    P = sparse.coo_matrix((vals, (rows, cols)), shape=(sp.n_vars, sp.n_vars))
    return QuadraticForm(sp, intercept=intercept, linear=lin, pairwise=P, name=name, units=units)


# ---- parameter count ---------------------------------------------------------------------------
def _make_divisible(v: float, divisor: int = 8) -> int:
    """OFA's channel rounding: the nearest multiple of ``divisor``, never below 0.9 v."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def mbconv_params(c_in: int, c_out: int, kernel: int, expansion: float, se: bool) -> int:
    """Parameters of one OFA MobileNetV3 MBConv block: 1x1 expansion conv + BN (absent at
    expansion 1), depthwise k x k conv + BN, squeeze-excite (two 1x1 convs with biases, middle
    width ``make_divisible(mid // 4)``), 1x1 projection conv + BN (convs without bias; a BN has
    a weight and a bias per channel)."""
    mid = _make_divisible(round(c_in * expansion)) if expansion != 1 else c_in
    n = 0 if expansion == 1 else c_in * mid + 2 * mid
    n += mid * kernel * kernel + 2 * mid
    if se:
        m = _make_divisible(mid // 4)
        n += mid * m + m + m * mid + mid
    return n + mid * c_out + 2 * c_out


@functools.cache
def params_tables() -> tuple[float, np.ndarray]:
    """``fixed`` (the layers every subnet has) and ``block[position, kernel, expansion]``
    parameter counts of the OFA MobileNetV3 w1.2 subnets (resolution does not matter)."""
    fixed = 3 * FIRST_CHANNELS * 9 + 2 * FIRST_CHANNELS          # first conv + BN
    fixed += mbconv_params(FIRST_CHANNELS, FIRST_CHANNELS, 3, 1, False)   # first block
    fixed += STAGE_WIDTHS[-1] * FINAL_EXPAND + 2 * FINAL_EXPAND   # final expand conv + BN
    fixed += FINAL_EXPAND * FEATURE_MIX                           # feature mix (no bias, no BN)
    fixed += FEATURE_MIX * N_CLASSES + N_CLASSES                  # classifier
    block = np.zeros((N_POS, len(ofa_space.KERNELS), len(ofa_space.EXPANSIONS)))
    c_in = FIRST_CHANNELS
    for s in range(ofa_space.N_STAGES):
        for b in range(ofa_space.N_BLOCKS):
            p = s * ofa_space.N_BLOCKS + b
            for ki, k in enumerate(ofa_space.KERNELS):
                for ei, e in enumerate(ofa_space.EXPANSIONS):
                    block[p, ki, ei] = mbconv_params(c_in, STAGE_WIDTHS[s], int(k), int(e),
                                                     bool(STAGE_SE[s]))
            c_in = STAGE_WIDTHS[s]
    return float(fixed), block


def ofa_params(choices: np.ndarray, space: SearchSpace | None = None) -> np.ndarray:
    """Parameter count (millions) of each row of an (n, n_groups) choices array."""
    sp = space if space is not None else get_space()
    C = np.asarray(choices, dtype=np.int64).reshape(-1, sp.n_groups)
    lay = _Layout(sp)
    fixed, block = params_tables()
    per_block = block[np.arange(N_POS)[None, :], C[:, lay.k], C[:, lay.e]]
    return (fixed + np.where(lay.active(C), per_block, 0.0).sum(axis=1)) / 1e6


def ofa_params_form(space: SearchSpace | None = None) -> QuadraticForm:
    """Parameters (millions) of the OFA MobileNetV3 w1.2 subnet as an exact QuadraticForm,
    counted analytically from the network structure (``params_tables``; DATA.md). Unlike the
    latency it does not depend on the resolution, so it holds over the whole space."""
    fixed, block = params_tables()
    return _block_table_form(space, fixed / 1e6, block / 1e6, PARAMS, "M")


def resolution_constraint(resolution: int | str,
                          space: SearchSpace | None = None) -> LinearConstraint:
    """A LinearConstraint fixing the ``res`` group to ``resolution``."""
    sp = space if space is not None else get_space()
    ri = _resolution_index(resolution)
    coef = np.zeros(sp.n_vars)
    coef[sp.var_index(ofa_space.RES_GROUP, ofa_space.RESOLUTIONS[ri])] = 1.0
    return LinearConstraint(f"res={ofa_space.RESOLUTIONS[ri]}", coef, lb=1.0, ub=1.0)


# ---- entry points ------------------------------------------------------------------------------
def get_space() -> SearchSpace:
    """``iqnas.spaces.get("ofa")``, registering the space first if it is not registered yet."""
    from iqnas import spaces

    if "ofa" not in spaces.names():
        spaces.register("ofa", ofa_space.build)
    return spaces.get("ofa")


def ofa() -> OFABenchmark:
    """The OFA MobileNetV3 oracle (acc_ofa_pred in %, lat_note10_ms in ms)."""
    return OFABenchmark()
