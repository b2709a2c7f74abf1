"""Training-free calibration: FreeREA's metrics in place of trained accuracy (0 trained networks).

``calibrate_training_free(space, oracle, ...)`` measures the training-free metrics (NASWOT,
LogSynflow and FreeREA's skip term by default) of a sample, combines them with
:class:`~iqnas.calibration.proxies.FreeREAScore`, fits a quadratic to the combined score, solves
the IQP under the budgets for its top-k new candidates, measures them and re-ranks every measured
architecture by its exact combined score. The answer is the best exactly scored architecture that
meets every budget by its measured values.

The normalisation of the score is fitted once, on the calibration sample's architectures that
meet the budgets (all of them without budgets; FreeREA also compares feasible architectures only),
and then kept fixed: it is stored with the fitted model (:class:`TrainingFreeModel`, saved as
JSON), so an architecture scores the same whatever else is measured. FreeREA's own normalisation
is relative to the set being compared.

Metric names are resolved against the oracle (:mod:`.columns`). Budgets (:mod:`.budgets`): a
metric the oracle measures is checked by its measured value; its form is taken from
``resource_forms`` or fitted on a uniform pilot, the rest of the sample being drawn within the
budgets (:mod:`.sampling`), and refitted on the whole sample before the IQP. A metric the oracle
does not measure needs its form in ``resource_forms``. Every measurement is one metric evaluation
(:mod:`.measurer`); by default ``n_samples + top_k`` in all.

Modules: ``model`` (the fitted model and its JSON file), ``run`` (what the search returns),
``columns``, ``budgets``, ``measurer``, ``sampling``, ``answers`` (the IQP's candidates and
repairs), ``rerank`` (exact scores and the best measured architecture) and ``search`` (the
pipeline, ``calibrate_training_free``).
"""

from iqnas.calibration.training_free.columns import (
    DEFAULT_METRICS,
    SCORE,
    default_metrics,
    resolve_columns,
)
from iqnas.calibration.training_free.model import TrainingFreeModel
from iqnas.calibration.training_free.run import TrainingFreeRun
from iqnas.calibration.training_free.search import calibrate_training_free

__all__ = ["DEFAULT_METRICS", "SCORE", "TrainingFreeModel", "TrainingFreeRun",
           "calibrate_training_free", "default_metrics", "resolve_columns"]
