"""One built SCIP model, kept for the next solve of a problem with the same structure.

A budget sweep solves the same objective and resource forms at many budgets, ``solve_top_k`` /
``iter_solutions`` and the calibration rounds solve them again with more architectures
excluded. Such a problem differs from the last one only in right-hand sides and no-good rows,
so the model is not compiled and built again: after ``freeTransform`` the budget rows get their
new right-hand sides (``chgRhs``), exclusion rows are added or deleted, the parameters are set
afresh, and SCIP solves from scratch (no reoptimisation: every answer is a full solve of exactly
the problem asked, so it is as exact as a cold one).

"The same structure" is decided without compiling: the same space, objective and resource form
objects (identity), sense, constraint names, linear constraints (by value), products mode and
backend parameters. Only the last model is kept (one per process).
"""

from __future__ import annotations

import atexit
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class BuiltModel:
    """A pyscipopt model with what a later solve needs to change it."""

    model: Any
    variables: list
    compiled: Any                      # the CompiledProblem it was built from
    budget_conss: dict[str, Any]       # constraint name -> its budget row
    excluded: dict[Any, Any]           # Architecture -> its no-good row
    trace: Any
    flags: dict[str, bool]
    key: tuple = ()
    owner: Any = None                  # the problem the key's ids belong to (kept alive)
    n_solves: int = 0
    extra: dict = field(default_factory=dict)


_LAST: BuiltModel | None = None


def _frozen(v):
    if isinstance(v, dict):
        return tuple(sorted((k, _frozen(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return tuple(_frozen(x) for x in v)
    return v


def structure_key(problem, products: str, params: dict) -> tuple:
    """What must be equal for a built model to serve ``problem``."""
    lin = tuple((lc.name, lc.lb, lc.ub, lc.coef.tobytes()) for lc in problem.linear_constraints)
    return (id(problem.space), id(problem.objective), problem.sense,
            tuple((c.name, id(c.form)) for c in problem.constraints), lin, products,
            _frozen(params))


def take(problem, products: str, params: dict) -> BuiltModel | None:
    """The kept model, changed to ``problem`` (None when there is none that fits)."""
    global _LAST
    built = _LAST
    if built is None:
        return None
    if built.key != structure_key(problem, products, params):
        release()
        return None
    m = built.model
    try:
        # no solutions of the last solve kept as original solutions: SCIP keeps at most
        # limits/maxorigsol (10) of them, and once they fill that storage it stored no new MIP
        # start, however good (a sweep upwards then kept the answer of its 8th-10th budget)
        m.setParam("misc/transsolsorig", False)
        m.freeTransform()
        for c in problem.constraints:
            m.chgRhs(built.budget_conss[c.name], float(c.budget - c.form.intercept))
        wanted = set(problem.exclude)
        for arch in [a for a in built.excluded if a not in wanted]:
            m.delCons(built.excluded.pop(arch))
        for arch in problem.exclude:
            if arch not in built.excluded:
                built.excluded[arch] = add_exclusion(m, built.variables, problem.space, arch,
                                                     len(built.excluded))
    except Exception:  # a model in an unexpected state is not reused
        log.debug("the kept SCIP model could not be changed; building a new one", exc_info=True)
        release()
        return None
    built.owner = problem
    built.n_solves += 1
    _LAST = None
    return built


def keep(built: BuiltModel, problem, products: str, params: dict) -> None:
    """Keep ``built`` for the next solve (freeing the model kept before, if another)."""
    global _LAST
    if _LAST is not None and _LAST is not built:
        release()
    built.key = structure_key(problem, products, params)
    built.owner = problem
    _LAST = built


def release() -> None:
    """Free the kept model."""
    global _LAST
    built, _LAST = _LAST, None
    if built is not None:
        try:
            built.model.freeProb()
        except Exception:  # pragma: no cover - freeing a broken model
            log.debug("freeing the kept SCIP model failed", exc_info=True)


def add_exclusion(m, variables: list, space, arch, k: int):
    """The no-good row ``sum of arch's options <= n_groups - 1`` (as the compiled rows)."""
    from pyscipopt import quicksum

    cols = space.offsets + np.asarray(arch.choices)
    expr = quicksum(variables[int(c)] for c in cols)
    return m.addCons(expr <= len(cols) - 1.0, name=f"exclude[r{k}]")


def exclusion_rows(cp, problem) -> dict:
    """Architecture -> index of its no-good row in the compiled problem ``cp``."""
    rows = [r for r, name in enumerate(cp.row_names) if name.startswith("exclude[")]
    return dict(zip(problem.exclude, rows))


# free the kept model while Python still runs its plugins' callbacks (not at teardown)
atexit.register(release)
