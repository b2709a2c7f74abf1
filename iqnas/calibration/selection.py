"""Iterative data selection (BRP-NAS, done inside the IQP): what to measure in each round.

Round 0 is a uniform or stratified sample. Round ``r >= 1`` fits the models on the samples of
earlier rounds, solves the IQP under every requested budget (hard) for its top-k new
architectures (no-good cuts over everything already measured), and adds random architectures
from the predicted top ``1/2**r`` fraction of those that may be feasible (predicted within budget
plus the resource model's cross-validated error times ``explore``). Every choice depends only on
the seed, the round and the samples of earlier rounds, so an interrupted run re-plans a round
identically and resumes.

An oracle that measures only some architectures (a CSV of measurements) passes them as
``pool``: every round then draws from the pool only, and the IQP step becomes the exact
optimum over the pool (the fitted objective evaluated on every pool member under the predicted
budgets), so nothing unmeasurable is ever planned.

``accept(arch, scenario)`` (``iqnas.calibration.screening.Screen.accept``) filters what a round
trains: the IQP's answers are taken best first until enough are accepted, the random draws in
their random order; a rejected architecture is simply passed over.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice, zip_longest

import numpy as np

from iqnas.calibration.samplers import BaseSampler, UniformSampler
from iqnas.problem import Problem
from iqnas.quadform import QuadraticForm
from iqnas.solve import iter_solutions
from iqnas.solvers.base import Backend
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

#: above this size the predicted top fraction is estimated from a random sample
ENUMERATE_UP_TO = 200_000
CANDIDATE_SAMPLE = 20_000


#: the iterative selection measures at least this many networks per round
MIN_ROUND_SIZE = 10
#: runs of fewer than SHORT_RUN networks: after a first round of MIN_ROUND_SIZE, rounds of at
#: least SHORT_ROUND_SIZE (``schedule``; benchmarks/NOTES.md has the schedules measured)
SHORT_RUN, SHORT_ROUND_SIZE = 40, 3
#: answers of one IQP examined by ``accept`` per architecture wanted (plus SCREEN_EXTRA)
SCREEN_FACTOR, SCREEN_EXTRA = 20, 50

#: accept(arch, scenario index or None for any) -> train it?
Accept = Callable[[Architecture, "int | None"], bool]
#: rerank(candidates) -> the same candidates, best first
Rerank = Callable[[list[Architecture]], list[Architecture]]


def _near_equal(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` parts differing by at most one, the larger first."""
    base, extra = divmod(total, parts)
    return [base + (1 if r < extra else 0) for r in range(parts)]


def round_sizes(n_samples: int, rounds: int) -> list[int]:
    """Split ``n_samples`` into at most ``rounds`` nearly equal parts of at least
    ``MIN_ROUND_SIZE`` each (one part if ``n_samples`` is smaller)."""
    return _near_equal(n_samples, max(1, min(rounds, n_samples // MIN_ROUND_SIZE)))


def schedule(n_samples: int, rounds: int) -> list[int]:
    """The round sizes of an iterative run of ``n_samples``: ``round_sizes``, except in runs of
    fewer than SHORT_RUN networks, which train a first round of MIN_ROUND_SIZE and then at most
    ``rounds - 1`` nearly equal rounds of at least SHORT_ROUND_SIZE (25 networks:
    10 + 3 x 5), so that more of a short run is planned by refitted models."""
    rest = n_samples - MIN_ROUND_SIZE
    if n_samples >= SHORT_RUN or rounds < 2 or rest < SHORT_ROUND_SIZE:
        return round_sizes(n_samples, rounds)
    return [MIN_ROUND_SIZE] + _near_equal(rest, min(rounds - 1, rest // SHORT_ROUND_SIZE))


def round_rng(seed: int, r: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(r), 7919])


def uniform_plan(space: SearchSpace, n: int, rng: np.random.Generator,
                 taken: set[Architecture], restrict=None) -> list[Architecture]:
    """``n`` distinct uniform architectures not in ``taken`` (members of ``restrict`` only)."""
    out: list[Architecture] = []
    seen = set(taken)
    for _ in range(50):
        if len(out) >= n:
            break
        rows = space.sample_choices(rng, 2 * (n - len(out)) + 8)
        for row in rows if restrict is None else rows[restrict.mask(rows)]:
            a = Architecture(space, tuple(int(v) for v in row))
            if a not in seen:
                seen.add(a)
                out.append(a)
                if len(out) == n:
                    break
    return out


def pool_plan(space: SearchSpace, pool: np.ndarray, n: int, rng: np.random.Generator,
              taken: set[Architecture]) -> list[Architecture]:
    """``n`` distinct architectures drawn uniformly from the rows of ``pool`` (choices), none
    in ``taken`` (fewer if the pool runs out)."""
    out: list[Architecture] = []
    for i in rng.permutation(len(pool)):
        a = Architecture(space, tuple(int(v) for v in pool[i]))
        if a not in taken:
            out.append(a)
            if len(out) == n:
                break
    return out


def pool_top_k(space: SearchSpace, pool: np.ndarray, objective: QuadraticForm,
               scenarios: Sequence[dict[str, tuple[QuadraticForm, float]]], k: int,
               taken: set[Architecture], accept: Accept | None = None,
               rerank: Rerank | None = None, rerank_pool: int = 1) -> list[Architecture]:
    """The IQP step restricted to ``pool``: per scenario the best predicted members within
    every predicted budget (hard), not in ``taken`` and accepted; ``k`` in all, round robin.
    ``rerank`` reorders the first ``rerank_pool * ceil(k / scenarios)`` of each scenario's
    list (see ``reranked``)."""
    if k <= 0 or not len(pool):
        return []
    scores = objective.evaluate(choices=pool)
    streams: list[Iterator[Architecture]] = []
    for scen in scenarios:
        idx = np.flatnonzero(Problem(space, objective, dict(scen)).feasible(pool))
        lst = idx[np.argsort(-scores[idx], kind="stable")]
        streams.append(a for a in (Architecture(space, tuple(int(v) for v in pool[i]))
                                   for i in lst) if a not in taken)
    if rerank is not None:
        per = math.ceil(k / max(1, len(streams)))
        streams = reranked(streams, max(1, int(rerank_pool)) * per, rerank)
    out: list[Architecture] = []
    seen = set(taken)
    live = list(range(len(streams)))
    while len(out) < k and live:
        for j in list(live):
            for a in streams[j]:
                if a not in seen and (accept is None or accept(a, j)):
                    seen.add(a)
                    out.append(a)
                    break
            else:
                live.remove(j)
            if len(out) >= k:
                break
    return out


def candidate_pool(space: SearchSpace, rng: np.random.Generator,
                   pool: np.ndarray | None = None) -> np.ndarray:
    """The architectures (choices) the top-fraction draw ranks: ``pool`` when given, else the
    whole space if small, else a random sample of it."""
    if pool is not None:
        return pool
    if space.size <= ENUMERATE_UP_TO:
        return space.enumerate_choices().astype(np.int64)
    return space.sample_choices(rng, CANDIDATE_SAMPLE)


def top_fraction_plan(space: SearchSpace, objective: QuadraticForm,
                      scenarios: Sequence[dict[str, tuple[QuadraticForm, float]]], fraction: float,
                      n: int, rng: np.random.Generator, taken: set[Architecture],
                      margins: Mapping[str, float] | None = None,
                      pool: np.ndarray | None = None, restrict=None,
                      accept: Accept | None = None) -> list[Architecture]:
    """``n`` random unmeasured architectures whose predicted objective lies in the top
    ``fraction`` of the architectures that may be feasible under some scenario: predicted
    within each budget plus its ``margins[metric]`` (the model's expected error; 0 if absent),
    and accepted by ``accept`` (for any scenario).

    The best truly feasible networks sit at the budget, where a model's sign errors hide half
    of them; drawing near the boundary lets measurement, not the model, decide."""
    if n <= 0:
        return []
    margins = margins or {}
    restricted = pool
    pool = candidate_pool(space, rng, pool)
    if restrict is not None and restricted is None:
        pool = pool[restrict.mask(pool)]
    feasible = np.zeros(len(pool), dtype=bool)
    for scen in scenarios:
        loose = {m: (form, budget + margins.get(m, 0.0)) for m, (form, budget) in scen.items()}
        feasible |= Problem(space, objective, loose).feasible(pool)
    if not feasible.any():
        feasible[:] = True
    pool = pool[feasible]
    scores = objective.evaluate(choices=pool)
    threshold = np.quantile(scores, 1.0 - fraction)
    top = scores >= threshold
    good = pool[top]
    order = rng.permutation(len(good))
    if accept is not None:  # screened: then the rest of the region, then anything, in order
        good = np.concatenate([good, pool[~top]])
        order = np.concatenate([order, len(order) + rng.permutation(int((~top).sum()))])
    out: list[Architecture] = []
    seen = set(taken)
    for i in order:
        a = Architecture(space, tuple(int(v) for v in good[i]))
        if a not in seen:
            seen.add(a)
            if accept is not None and not accept(a, None):
                continue
            out.append(a)
            if len(out) == n:
                break
    if len(out) < n and accept is not None:
        fill = (uniform_plan(space, SCREEN_FACTOR * (n - len(out)), rng, seen, restrict)
                if restricted is None else pool_plan(space, restricted, len(restricted), rng,
                                                     seen))
        for a in fill:
            if len(out) == n:
                break
            if accept(a, None):
                out.append(a)
        return out
    if len(out) < n:  # the top fraction is exhausted: fill uniformly
        out += (uniform_plan(space, n - len(out), rng, seen, restrict) if restricted is None else
                pool_plan(space, restricted, n - len(out), rng, seen))
    return out


#: objectives this close (relative) are ties, ordered by option indices
TIE_RTOL = 1e-9


def ranked(answers: Iterable) -> Iterator[Architecture]:
    """The architectures of verified answers (best first), each run of tied objectives (within
    TIE_RTOL) in option-index order. Backends order tied answers as they please (enumeration by
    index, SCIP by its search), so without this the same model gives different plans; with it,
    SCIP and enumeration plan the same networks. Reads one answer past each run of ties."""
    group: list = []
    for res in answers:
        if group and not _tied(res.objective, group[0].objective):
            yield from (r.architecture for r in sorted(group, key=_by_choices))
            group = []
        group.append(res)
    yield from (r.architecture for r in sorted(group, key=_by_choices))


def _tied(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) <= TIE_RTOL * max(1.0, abs(float(b)))


def _by_choices(res) -> tuple[int, ...]:
    return res.architecture.choices


def reranked(streams: Sequence[Iterable[Architecture]], head: int,
             rerank: Rerank) -> list[Iterator[Architecture]]:
    """Each stream of candidates with its first ``head`` reordered by ``rerank``, the rest
    following in the stream's order. ``rerank`` is called once, on the heads' union (the
    heads interleaved, first answers first, so a position is an IQP rank across scenarios);
    it returns them best first, and any it leaves out or adds are kept last (in their order)
    or ignored: only the streams' candidates are ever proposed. A ``rerank`` that returns its
    input (the identity) leaves a single stream as it was."""
    iters = [iter(s) for s in streams]
    heads = [list(islice(it, head)) for it in iters]
    union = list(dict.fromkeys(a for row in zip_longest(*heads) for a in row if a is not None))
    members = set(union)
    order = {a: i for i, a in enumerate(dict.fromkeys(
        a for a in rerank(list(union)) if a in members))}
    last = len(order)
    out = []
    for h, it in zip(heads, iters):
        ranked_head = sorted(range(len(h)), key=lambda i: (order.get(h[i], last), i))
        out.append(chain([h[i] for i in ranked_head], it))  # a list: h is rebound
    return out


def iqp_plan(space: SearchSpace, objective: QuadraticForm,
             scenarios: Sequence[dict[str, tuple[QuadraticForm, float]]], k: int,
             taken: set[Architecture], solver: str | Backend, seed: int,
             time_limit: float | None, linear_constraints=(),
             accept: Accept | None = None, rerank: Rerank | None = None,
             rerank_pool: int = 1) -> list[Architecture]:
    """The IQP's ``k`` best unmeasured architectures, spread over the scenarios (round robin);
    with ``accept``, the best accepted ones among the first answers of each scenario.
    ``rerank`` reorders each scenario's first ``rerank_pool * ceil(k / scenarios)`` answers
    (all feasible under the fitted models) before they are taken or screened, lazily: they are
    screened in the re-ranked order until enough pass, then the IQP's further answers in its
    order, so re-ranking with the identity plans (and looks up) exactly what the plain step
    does."""
    if k <= 0:
        return []
    per = math.ceil(k / max(1, len(scenarios)))
    streams: list[Iterator[Architecture]] = []
    for scen in scenarios:
        if accept is None:
            problem = Problem(space, objective, {m: fb for m, fb in scen.items()},
                              exclude=sorted(taken, key=lambda a: a.choices),
                              linear_constraints=linear_constraints)
            answers = iter_solutions(problem, solver, seed=seed, time_limit=time_limit)
        else:
            problem = Problem(space, objective, dict(scen), linear_constraints=linear_constraints)
            answers = iter_solutions(problem, solver, skip=taken, seed=seed,
                                     time_limit=time_limit)
        streams.append(ranked(answers))
    if rerank is not None:
        streams = reranked(streams, max(1, int(rerank_pool)) * per, rerank)
    lists = []
    for j, stream in enumerate(streams):
        if accept is None:
            lists.append(list(islice(stream, per)))
            continue
        got: list[Architecture] = []
        for arch in islice(stream, SCREEN_FACTOR * per + SCREEN_EXTRA):
            if accept(arch, j):
                got.append(arch)
                if len(got) == per:
                    break
        lists.append(got)
    out: list[Architecture] = []
    seen = set(taken)
    for i in range(per):
        for lst in lists:
            if i < len(lst) and lst[i] not in seen and len(out) < k:
                seen.add(lst[i])
                out.append(lst[i])
    return out


def plan_round(r: int, size: int, space: SearchSpace, seed: int,
               fit: Callable[[], tuple[QuadraticForm, list[dict], dict[str, float]]],
               taken: set[Architecture], *, solver: str | Backend = "scip", top_share: float = 0.5,
               time_limit: float | None = None, sampler: BaseSampler | None = None,
               pool: np.ndarray | None = None, restrict=None,
               accept: Accept | None = None,
               rerank: Rerank | None = None,
               rerank_pool: int = 1) -> list[tuple[Architecture, str]]:
    """The architectures round ``r`` measures, in order, each with its source tag; round 0
    draws from ``sampler`` (uniform by default), or uniformly from ``pool`` (the choices of
    the only architectures the oracle can measure) when given. ``fit`` returns the objective
    form, the scenarios (metric -> (form, budget)) and each budgeted model's expected error.
    ``restrict`` (a reduction Cluster) adds its rows to every IQP and keeps every draw inside
    it (``sampler`` and ``pool`` must already be restricted). ``accept`` screens rounds
    ``r >= 1`` (round 0 is planned by ``initial_design.initial_plan`` when screening).
    ``rerank(candidates)``, when given, orders the IQP's ``rerank_pool * k`` best (hard
    budgets; per scenario) before they are taken or screened (``iqp_plan``); only IQP
    candidates are ever kept."""
    rng = round_rng(seed, r)
    if r == 0:
        if pool is not None:
            return [(a, "initial") for a in pool_plan(space, pool, size, rng, taken)]
        drawn = (sampler or UniformSampler()).sample(space, size, rng)
        return [(a, "initial") for a in drawn if a not in taken]
    objective, scenarios, margins = fit()
    k = int(round(size * top_share))
    if pool is None:
        top = iqp_plan(space, objective, scenarios, k, taken, solver, seed, time_limit,
                       () if restrict is None else restrict.linear_constraints, accept,
                       rerank, rerank_pool)
    else:
        top = pool_top_k(space, pool, objective, scenarios, k, taken, accept, rerank,
                         rerank_pool)
    tag = "iqp" if rerank is None else "iqp-rerank"
    rest = top_fraction_plan(space, objective, scenarios, 0.5 ** r, size - len(top), rng,
                             taken | set(top), margins, pool, restrict, accept)
    return [(a, tag) for a in top] + [(a, "top-fraction") for a in rest]
