"""Progress of a calibration run: the best truly feasible objective against the number of
measured networks, beside random search on the same number of networks from a table oracle.

The random-search curve is exact, not simulated: for ``n`` networks drawn uniformly without
replacement from a table of ``N``, the best feasible one is the ``j``-th best feasible network
of the table with probability ``S(j-1) - S(j)``, where ``S(j) = C(N - j, n) / C(N, n)`` is the
chance that none of the ``j`` best feasible networks is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from iqnas.measured import feasible_rows
from iqnas.plotdata.labels import axis_label, with_units
from iqnas.plotdata.series import Series

#: the random-search curve is evaluated at most at this many sample counts
GRID = 400
#: its shaded band: these quantiles of the best value found
BAND = (0.1, 0.9)


@dataclass(frozen=True)
class ProgressData:
    """Series ``run`` (one per budget scenario, a staircase) and ``random`` (the expected best
    of random search with its 10-90 % band); ``rounds`` are the sample counts at which each
    round ended; ``note`` says why a baseline is missing."""

    series: list[Series]
    title: str
    xlabel: str
    ylabel: str
    rounds: tuple[int, ...]
    note: str = ""

    @property
    def n_points(self) -> int:
        return sum(s.n_points for s in self.series)


def scenario_label(budgets: Mapping[str, float], units: Mapping[str, str]) -> str:
    """``help_lat_fpga ≤ 3 ms, params ≤ 0.5 M`` (``no budget`` for an empty scenario)."""
    if not budgets:
        return "no budget"
    return ", ".join(f"{m} ≤ {with_units(b, units.get(m, ''))}" for m, b in budgets.items())


def running_best(values: np.ndarray, feasible: np.ndarray, maximize: bool = True) -> np.ndarray:
    """Best value among the first ``i + 1`` rows that are feasible (NaN before the first)."""
    v = np.where(feasible & np.isfinite(values), values if maximize else -values, -np.inf)
    best = np.maximum.accumulate(v) if v.size else v
    best = best if maximize else -best
    return np.where(np.isfinite(best), best, np.nan)


def random_search_curve(values: np.ndarray, feasible: np.ndarray, ns: Sequence[int],
                        quantiles: tuple[float, float] = BAND, maximize: bool = True
                        ) -> dict[str, np.ndarray]:
    """Exact statistics of the best feasible value among ``n`` rows of ``values`` drawn
    uniformly without replacement, for each ``n`` in ``ns``.

    Returns arrays ``mean`` (the expected best, given that a feasible row was drawn), ``low``
    and ``high`` (the ``quantiles`` of the best, given the same) and ``p_none`` (the chance that
    no feasible row is drawn); NaN where no row is feasible.
    """
    values = np.asarray(values, dtype=float)
    N = values.size
    ok = np.asarray(feasible, dtype=bool) & np.isfinite(values)
    best_first = np.sort(values[ok] if maximize else -values[ok])[::-1]
    best_first = best_first if maximize else -best_first
    F = best_first.size
    out = {k: np.full(len(ns), np.nan) for k in ("mean", "low", "high", "p_none")}
    j = np.arange(F + 1)
    for i, n in enumerate(ns):
        n = int(n)
        if not 0 < n <= N:
            raise ValueError(f"cannot draw {n} of {N} rows")
        # log S(j) = log C(N - j, n) - log C(N, n); S(j) = 0 once fewer than n rows are left
        left = N - j
        logS = np.full(F + 1, -np.inf)
        can = left >= n
        logS[can] = (gammaln(left[can] + 1) - gammaln(left[can] - n + 1)
                     - gammaln(N + 1) + gammaln(N - n + 1))
        S = np.exp(logS)
        out["p_none"][i] = S[F]
        if F == 0 or S[F] >= 1.0:
            continue
        p_best = S[:-1] - S[1:]  # P(best = j-th best feasible)
        hit = 1.0 - S[F]
        out["mean"][i] = float(p_best @ best_first) / hit
        at_least = (1.0 - S[1:]) / hit  # P(best is one of the j best | a feasible row drawn)
        for name, q in (("low", quantiles[0]), ("high", quantiles[1])):
            k = min(int(np.searchsorted(at_least, 1.0 - q - 1e-12)), F - 1)
            out[name][i] = best_first[k]
    return out


def sample_grid(n: int, size: int = GRID) -> np.ndarray:
    """1..n, or ``size`` evenly spread counts from 1 to n when n is larger."""
    if n <= size:
        return np.arange(1, n + 1)
    return np.unique(np.linspace(1, n, size).round().astype(int))


def progress_data(samples, objective: str, scenarios: Sequence[Mapping[str, float]],
                  units: Mapping[str, str] | None = None, table=None,
                  required: Sequence[str] = (), maximize: bool = True,
                  title: str | None = None, no_table_reason: str = "") -> ProgressData:
    """Progress of the samples of a run, in measurement order.

    ``samples`` has a ``key`` column, the metric columns and ``round``; ``table`` (the table
    oracle's rows, one column per metric; None when the oracle is not a table) gives the random
    search baseline, over the rows whose ``required`` metrics are all finite (the networks a
    run could measure). ``no_table_reason`` is the note shown without a table.
    """
    units = dict(units or {})
    scenarios = list(scenarios) or [{}]
    values = samples[objective].to_numpy(dtype=float)
    n = len(samples)
    x = np.arange(1, n + 1)
    series: list[Series] = []
    keys = samples["key"].tolist()
    pop = None
    if table is not None and n:
        need = [m for m in dict.fromkeys([objective, *required]) if m in table.columns]
        pop = table[np.all(np.isfinite(table[need].to_numpy(dtype=float)), axis=1)]
        if n > len(pop):
            pop = None
    for scen in scenarios:
        label = scenario_label(scen, units)
        ok = feasible_rows(samples, scen)
        best = running_best(values, ok, maximize)
        improved = np.r_[np.isfinite(best[:1]), best[1:] != best[:-1]] if n else np.array([])
        improved &= np.isfinite(best)
        hover = [f"{keys[i]}\nafter {i + 1} networks: {objective} "
                 f"{with_units(best[i], units.get(objective, ''))}" if improved[i] else ""
                 for i in range(n)]
        series.append(Series(f"this run ({label})", "run", x, best,
                             [keys[i] if improved[i] else None for i in range(n)], hover,
                             step=True, markers=False,
                             extra={"improvements": np.flatnonzero(improved)}))
        if pop is not None:
            grid = sample_grid(n)
            curve = random_search_curve(pop[objective].to_numpy(float), feasible_rows(pop, scen),
                                        grid, maximize=maximize)
            text = [f"random search, {k} networks: expected best "
                    f"{with_units(m, units.get(objective, ''))} (10-90 %: {lo:.4g} to {hi:.4g})"
                    for k, m, lo, hi in zip(grid, curve["mean"], curve["low"], curve["high"])]
            series.append(Series(f"random search, expected ({label})", "random", grid,
                                 curve["mean"], (), text, line=True, markers=False,
                                 band=(curve["low"], curve["high"]),
                                 extra={"p_none": curve["p_none"]}))
    rounds = ()
    if n and "round" in samples.columns:
        r = samples["round"].to_numpy()
        rounds = tuple(int(i) + 1 for i in np.flatnonzero(r[1:] != r[:-1]))
    note = ""
    if table is None:
        note = no_table_reason or "the oracle is not a table: no random-search baseline"
    elif pop is None and n:
        note = "the table has fewer measurable networks than the run measured: no baseline"
    return ProgressData(series, title or f"Progress: best truly feasible {objective}",
                        "networks measured",
                        axis_label(f"best truly feasible {objective}",
                                   units.get(objective, "")), rounds, note)
