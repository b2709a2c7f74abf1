"""The calibration hook on a space too large to enumerate: every planned architecture of every
round (sampler, IQP step with the cell's rows, top fraction, uniform fill) is a member."""

from __future__ import annotations

import numpy as np

import iqnas
from iqnas.calibration.samplers import StratifiedSampler
from iqnas.calibration.selection import plan_round, uniform_plan
from iqnas.reduction.cluster import Cluster
from iqnas.reduction.clustering import kmeans
from iqnas.reduction.features import op_usage_features


def _cluster(space) -> Cluster:
    C = space.sample_choices(0, 2000)
    f = op_usage_features(space).fit_scaling(C, 2.0 ** -4)
    centroids, labels = kmeans(f.of_choices(C), 4, 0)
    return Cluster(space, f, centroids, int(np.bincount(labels).argmax()))


def test_plan_round_keeps_every_draw_inside_the_cluster():
    space = iqnas.spaces.get("mobilenet")
    cl = _cluster(space)
    rng = np.random.default_rng(1)
    objective = iqnas.QuadraticForm(space, 0.0, rng.normal(size=space.n_vars))
    cost = iqnas.QuadraticForm(space, 0.0, rng.uniform(0, 1, size=space.n_vars))
    budget = float(np.median(cost.evaluate(space.choices_to_onehot(space.sample_choices(2,
                                                                                        500)))))

    def fit():
        return objective, [{"cost": (cost, budget)}], {}

    first = plan_round(0, 30, space, 0, fit, set(), sampler=cl.sampler(StratifiedSampler()),
                       restrict=cl)
    later = plan_round(1, 12, space, 0, fit, {a for a, _ in first}, restrict=cl)
    archs = [a for a, _ in first + later]
    assert len(first) == 30 and len(later) == 12 and {s for _, s in later} >= {"iqp"}
    assert all(cl.contains(a) for a in archs)
    # the IQP answers are the best members within the budget: none beats them on a sample
    iqp = [a for a, s in later if s == "iqp"]
    C = cl.sampler().sample_choices(space, 500, 3)
    X = space.choices_to_onehot(C)
    ok = cost.evaluate(X) <= budget
    assert max(objective(a) for a in iqp) >= objective.evaluate(X)[ok].max() - 1e-9
    filled = uniform_plan(space, 20, np.random.default_rng(4), set(), cl)
    assert len(filled) == 20 and all(cl.contains(a) for a in filled)
