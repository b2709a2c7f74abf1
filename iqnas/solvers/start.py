"""A fast primal start: best sampled architectures improved by feasible one-group moves.

Used by the SCIP backend as a MIP start. It only proposes architectures that satisfy every budget,
linear constraint and exclusion of the problem with a small safety margin
(``problem.feasible(C, margin=MARGIN)``), so it never changes what is optimal: it only gives the
solver an early incumbent.
"""

from __future__ import annotations

import time

import numpy as np

from iqnas.problem import Problem
from iqnas.solvers.moves import apply_moves, move_targets
from iqnas.space import Architecture

#: budgets are met with this relative margin, so the solver's own tolerances accept the start
MARGIN = 1e-7
#: a move must raise the objective by more than this to be taken
MIN_GAIN = 1e-12


def local_search(problem: Problem, n_samples: int = 256, starts: int = 4, seed: int = 0,
                 time_limit: float = 1.0) -> Architecture | None:
    """A good feasible architecture (or None if none was found)."""
    t_end = time.perf_counter() + time_limit
    space = problem.space
    sign = 1.0 if problem.sense == "maximize" else -1.0
    rng = np.random.default_rng(seed)
    C = np.vstack([np.zeros((1, space.n_groups), dtype=np.int64),
                   space.sample_choices(rng, n_samples)])
    C = C[problem.feasible(C, margin=MARGIN)]
    if not len(C):
        return None
    vals = sign * problem.objective_values(C)
    best, best_val = None, -np.inf
    for k in np.argsort(-vals)[:starts]:
        choices, val = _climb(problem, sign, C[k], float(vals[k]), t_end)
        if val > best_val:
            best, best_val = choices, val
        if time.perf_counter() > t_end:
            break
    return Architecture(space, tuple(int(v) for v in best))


def _climb(problem: Problem, sign: float, choices: np.ndarray, value: float,
           t_end: float) -> tuple[np.ndarray, float]:
    """Best-improvement hill climbing over feasible one-group moves (moving a controller also
    resets the groups it deactivates to option 0).

    A move that changes one group's option changes the objective by exactly the difference of
    the gradient at the two options; controller moves, which may reset other groups, are
    evaluated.
    """
    space, objective = problem.space, problem.objective
    controller = np.zeros(space.n_groups, dtype=bool)
    controller[[c for c, _ in space.conditions.values()]] = True
    while time.perf_counter() < t_end:
        targets = move_targets(space, choices)
        if not len(targets):
            break
        nb = apply_moves(space, choices, targets)
        group = space.group_of_var[targets]
        grad = sign * objective.gradient(choices=choices[None, :])[0]
        gain = grad[targets] - grad[space.offsets[group] + choices[group]]
        ctrl = controller[group]
        if ctrl.any():
            gain[ctrl] = sign * problem.objective_values(nb[ctrl]) - value
        up = np.flatnonzero(gain > MIN_GAIN)
        if len(up):
            up = up[problem.feasible(nb[up], margin=MARGIN)]
        if not len(up):
            break
        k = up[int(np.argmax(gain[up]))]
        choices, value = nb[k], value + float(gain[k])
    return choices, sign * float(problem.objective_values(choices)[0])
