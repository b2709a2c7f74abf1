"""Budget sweeps: exact answers over a list (or a grid) of budgets, their Pareto fronts, the
true front of a table oracle and the choices that change between neighbouring budgets.

``iqnas.sweep(problem, resource, budgets, ...)`` returns a :class:`Sweep`. The function lives in
``iqnas.sweeps.run``; this package is named ``sweeps`` so that it never shadows it.
"""

from iqnas.sweeps.budgets import budget_range, check_budgets, parse_budgets
from iqnas.sweeps.load import load_sweep
from iqnas.sweeps.points import SweepPoint
from iqnas.sweeps.result import Sweep
from iqnas.sweeps.rows import SweepRow
from iqnas.sweeps.run import sweep
from iqnas.sweeps.settings import SweepSettings

__all__ = ["Sweep", "SweepPoint", "SweepRow", "SweepSettings", "budget_range", "check_budgets",
           "load_sweep", "parse_budgets", "sweep"]
