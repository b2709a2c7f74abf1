"""Evolutionary searchers: BINAS's evolution, regularized (aging) evolution and FreeREA
(configured by :class:`iqnas.solvers.Evolution`).

Fitness is the problem's objective (negated when minimising). Budgets, linear rows and
exclusions are hard: an infeasible child is never evaluated nor kept. Individuals are genomes with
an option for every group; a group that is inactive (a block beyond its stage's depth) keeps an
unexpressed gene, so raising a depth re-activates a block with a real option. Fitness and
feasibility are those of the canonical architecture (inactive groups at option 0).

``mode="binas"`` (default; BINAS ``evo.py``, after OFA's EvolutionFinder)
    population 100, 500 generations; each generation keeps the best 25 % as parents and adds
    ``mutation_ratio * population`` mutants (each gene resampled with probability
    ``mutate_prob``) and the rest as uniform crossovers of two random parents. Budgets by
    rejection sampling: an infeasible child is redrawn from the same parent(s), at most
    ``max_retries`` times, then dropped. Unlike BINAS (which returns the best parent before the
    last generation's children are evaluated) the best architecture ever evaluated is returned.
``mode="rea"`` (regularized evolution, Real et al. 2019)
    population ``population``; each cycle draws ``sample_size`` individuals with replacement,
    mutates one active group of the best to a different option, adds the child and removes the
    oldest individual. ``cycles`` children in total.
``mode="freerea"`` (FreeREA's loop, Cavagnero et al. 2023)
    population ``population``; each generation repeatedly draws ``tournament_size`` individuals
    without replacement, adds one single-group mutant of each of the best two and (with
    ``crossover``) their uniform crossover, dropping children already seen or infeasible, until
    the population exceeds its size; then the oldest individual goes (if the population spans
    more than one generation) and the best ``population`` survive. FreeREA's set-relative
    normalisation of its multi-metric score does not apply: the objective here is fixed.

With ``time_limit`` and no explicit count (``generations`` / ``cycles``) a run goes on until the
time is up; with both, whichever ends first. ``nodes`` of the result counts objective
evaluations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from iqnas.problem import Problem
from iqnas.solvers.base import RawSolution, SolveOptions
from iqnas.solvers.context import SearchContext, time_or_count
from iqnas.solvers.genomes import crossover, mutate_genes, mutate_one, row_keys, with_hidden_genes
from iqnas.solvers.moves import initial_feasible, warm_start_row

log = logging.getLogger(__name__)

#: mutants drawn at once when an REA child must be redrawn until feasible
REA_BATCH = 4


def solve(problem: Problem, options: SolveOptions, cfg: dict[str, Any],
          explicit: bool) -> RawSolution:
    """``cfg``: the checked options of Evolution (the mode's defaults filled in);
    ``explicit``: the count (``generations`` / ``cycles``) was given."""
    return _Evolution().run(problem, options, cfg, explicit)


class _Evolution:
    """The three loops and what they share."""

    def run(self, problem: Problem, options: SolveOptions, cfg: dict[str, Any],
            explicit: bool) -> RawSolution:
        mode = cfg["mode"]
        ctx = SearchContext(problem, options.time_limit)
        rng = np.random.default_rng(options.seed)
        pop = self._initial(ctx, rng, cfg["population"], cfg["max_retries"], options.warm_start)
        if pop.shape[0] == 0:
            status = "time_limit" if ctx.out_of_time() else "initial_population"
            return ctx.raw(status, f"mode={mode}: no feasible architecture in "
                                   f"{cfg['max_retries'] * cfg['population']} samples")
        count_key = "cycles" if mode == "rea" else "generations"
        counted = time_or_count(options.time_limit, explicit)
        limit = cfg[count_key] if counted else None
        loop = {"binas": self._binas, "rea": self._rea, "freerea": self._freerea}[mode]
        done, status = loop(ctx, rng, pop, cfg, limit)
        log.debug("evolution %s: %d %s, %d evaluations in %.3fs", mode, done, count_key,
                  ctx.n_evals, ctx.elapsed())
        return ctx.raw(status, f"mode={mode}, {done} {count_key}")

    # ---- shared ------------------------------------------------------------------------------
    @staticmethod
    def _initial(ctx: SearchContext, rng: np.random.Generator, n: int, retries: int,
                 warm_start) -> np.ndarray:
        """Feasible genomes (rejection sampling), the warm start first if it is feasible."""
        rows = initial_feasible(ctx, rng, n, max_samples=retries * n)
        ws = warm_start_row(ctx, warm_start)
        if ws is not None:
            rows = np.concatenate([ws[None, :], rows[np.any(rows != ws[None, :], axis=1)]])[:n]
        return with_hidden_genes(ctx.space, rng, rows)

    @staticmethod
    def _accept(ctx: SearchContext, make: Callable[..., np.ndarray], parents: tuple,
                retries: int) -> np.ndarray:
        """Children ``make(*parents)`` redrawn from the same parents until feasible.

        ``parents`` holds one (n, n_groups) array per parent role; a child still infeasible after
        ``retries`` draws is dropped.
        """
        n = parents[0].shape[0]
        G = np.zeros((n, ctx.space.n_groups), dtype=np.int64)
        ok = np.zeros(n, dtype=bool)
        pending = np.arange(n)
        for _ in range(retries):
            if pending.size == 0 or ctx.out_of_time():
                break
            cand = make(*(p[pending] for p in parents))
            feas = ctx.feasible(ctx.space.canonical(cand))
            G[pending[feas]] = cand[feas]
            ok[pending[feas]] = True
            pending = pending[~feas]
        return G[ok]

    @staticmethod
    def _evaluate(ctx: SearchContext, G: np.ndarray) -> np.ndarray:
        C = ctx.space.canonical(G)
        fit = ctx.fitness(C)
        ctx.offer(C, fit)
        return fit

    # ---- BINAS / OFA ---------------------------------------------------------------------------
    def _binas(self, ctx, rng, pop, cfg, limit) -> tuple[int, str]:
        space = ctx.space
        size = cfg["population"]
        n_par = max(1, int(round(cfg["parent_ratio"] * size)))
        n_mut = int(round(cfg["mutation_ratio"] * size))
        n_cross = size - n_mut

        def mutate(P: np.ndarray) -> np.ndarray:
            return mutate_genes(space, rng, P, cfg["mutate_prob"])

        def cross(A: np.ndarray, B: np.ndarray) -> np.ndarray:
            return crossover(rng, A, B)

        fit = self._evaluate(ctx, pop)
        gen = 0
        while limit is None or gen < limit:
            if ctx.out_of_time():
                return gen, "time_limit"
            order = np.argsort(-fit, kind="stable")[:n_par]
            parents, pfit = pop[order], fit[order]
            k = parents.shape[0]
            who = parents[rng.integers(k, size=n_mut)]
            mutants = self._accept(ctx, mutate, (who,), cfg["max_retries"])
            pa, pb = parents[rng.integers(k, size=n_cross)], parents[rng.integers(k, size=n_cross)]
            crosses = self._accept(ctx, cross, (pa, pb), cfg["max_retries"])
            children = np.concatenate([mutants, crosses])
            pop = np.concatenate([parents, children])
            fit = np.concatenate([pfit, self._evaluate(ctx, children)])
            gen += 1
        return gen, "generations"

    # ---- regularized evolution -----------------------------------------------------------------
    def _rea(self, ctx, rng, pop, cfg, limit) -> tuple[int, str]:
        space = ctx.space
        fit = self._evaluate(ctx, pop)
        size = pop.shape[0]
        oldest = 0
        cycle = 0
        tries = max(1, cfg["max_retries"] // REA_BATCH)
        while limit is None or cycle < limit:
            if ctx.out_of_time():
                return cycle, "time_limit"
            sample = rng.integers(size, size=cfg["sample_size"])
            parent = pop[sample[int(np.argmax(fit[sample]))]]
            child = None
            for _ in range(tries):
                cand = mutate_one(space, rng, np.repeat(parent[None, :], REA_BATCH, axis=0))
                feas = ctx.feasible(space.canonical(cand))
                if feas.any():
                    child = cand[int(np.argmax(feas))]
                    break
                if ctx.out_of_time():
                    break
            cycle += 1
            if child is None:
                continue
            pop[oldest] = child
            fit[oldest] = self._evaluate(ctx, child[None, :])[0]
            oldest = (oldest + 1) % size
        return cycle, "cycles"

    # ---- FreeREA -------------------------------------------------------------------------------
    def _freerea(self, ctx, rng, pop, cfg, limit) -> tuple[int, str]:
        space = ctx.space
        size = cfg["population"]
        fit = self._evaluate(ctx, pop)
        born = np.zeros(pop.shape[0], dtype=np.int64)
        seen = set(row_keys(space.canonical(pop)))
        gen = 0
        while limit is None or gen < limit:
            if ctx.out_of_time():
                return gen, "time_limit"
            gen += 1
            stalled = 0
            while pop.shape[0] <= size:
                if stalled >= cfg["max_retries"] or ctx.out_of_time():
                    return gen, ("time_limit" if ctx.out_of_time() else "stalled")
                n = min(cfg["tournament_size"], pop.shape[0])
                draw = rng.choice(pop.shape[0], size=n, replace=False)
                top = draw[np.argsort(-fit[draw], kind="stable")[:2]]
                a, b = pop[top[0]], pop[top[-1]]
                kids = [mutate_one(space, rng, np.stack([a, b]))]
                if cfg["crossover"]:
                    kids.append(crossover(rng, a[None, :], b[None, :]))
                kids = np.concatenate(kids)
                C = space.canonical(kids)
                fresh = []
                for i, key in enumerate(row_keys(C)):
                    if key not in seen:
                        seen.add(key)
                        fresh.append(i)
                fresh = np.asarray(fresh, dtype=np.int64)
                if fresh.size:
                    fresh = fresh[ctx.feasible(C[fresh])]
                if fresh.size == 0:
                    stalled += 1
                    continue
                stalled = 0
                pop = np.concatenate([pop, kids[fresh]])
                fit = np.concatenate([fit, self._evaluate(ctx, kids[fresh])])
                born = np.concatenate([born, np.full(fresh.size, gen)])
            if born.min() < born.max():  # ageing: drop the single oldest
                drop = int(np.argmin(born))
                keep = np.arange(pop.shape[0]) != drop
                pop, fit, born = pop[keep], fit[keep], born[keep]
            order = np.argsort(-fit, kind="stable")[:size]
            pop, fit, born = pop[order], fit[order], born[order]
        return gen, "generations"
