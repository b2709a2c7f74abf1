"""BRP-NAS's graph-convolutional predictors: ``GCNRegressor`` and ``GCNRanker``.

Both encode architectures as graphs (``iqnas.calibration.graphs``: nb201, mobilenet, ofa) and
run 4 graph convolutions of 600 units, each followed by LayerNorm, ReLU and dropout, reading out
the global node (``iqnas.calibration.nets``). torch (CPU) is imported only in ``fit`` /
``predict``: ``pip install 'iqnas[torch]'``. Training is seeded: the same ``seed`` and
``num_threads`` give the same predictions. These predictors are not quadratic, so they have no
``form_``; calibration uses them to re-rank the IQP's candidates (``calibrate(rerank="gcn")``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from iqnas._validation import Interval, Options
from iqnas.calibration.graphs import Graphs, graph_encoding
from iqnas.calibration.metrics import quality_report
from iqnas.calibration.neural import NEURAL_CONSTRAINTS, NeuralEstimator
from iqnas.errors import InputError
from iqnas.space import SearchSpace

#: graphs per forward pass in ``predict``
PREDICT_BATCH = 2048


class _GCNEstimator(NeuralEstimator):
    _parameter_constraints = {**NEURAL_CONSTRAINTS, "hidden": [Interval("int", 1, None)],
                              "layers": [Interval("int", 1, None)]}

    def _check_params(self) -> None:
        self._validate_params()
        graph_encoding(self._check_space())

    def _graphs(self, C: np.ndarray) -> Graphs:
        return graph_encoding(self.space).encode_choices(C)

    def _tensors(self, torch, g: Graphs):
        return torch.from_numpy(g.adjacency), torch.from_numpy(g.features)

    def _new_net(self, n_features: int):
        from iqnas.calibration.nets import GCNPredictor

        return GCNPredictor(n_features, int(self.hidden), int(self.layers), float(self.dropout))

    def _raw_predict(self, C: np.ndarray, torch) -> np.ndarray:
        g = self._graphs(C)
        adj, feats = self._tensors(torch, g)
        out = [self.net_(adj[i:i + PREDICT_BATCH], feats[i:i + PREDICT_BATCH])
               for i in range(0, len(g), PREDICT_BATCH)]
        return torch.cat(out).double().numpy()


class GCNRegressor(_GCNEstimator):
    """BRP-NAS's GCN with a regression head (e.g. latency), trained with an L1 loss.

    Parameters
    ----------
    space : SearchSpace with a graph encoding (nb201, mobilenet, ofa).
    seed : seeds the initialisation, dropout and batch order.
    hidden, layers, dropout : 600 units x 4 graph convolutions; dropout 0.002 (BRP-NAS's
        latency predictor).
    epochs, batch_size, lr, weight_decay : AdamW with a cosine schedule over ``epochs``
        (defaults: 100 epochs, batches of 64, lr 4e-4 as BRP-NAS's latency predictor, weight
        decay 5e-4).
    num_threads : torch intra-op threads while fitting/predicting (restored afterwards; 1 is
        fastest on a small shared machine); None leaves torch's setting.
    progress : a bar over the epochs; None shows it on a terminal only.
    name, units : labels of the predicted metric.

    Fitted: ``net_``, ``loss_curve_``, ``fit_time_``, ``y_mean_``, ``y_scale_``,
    ``n_features_in_``, ``space_name_``.
    """

    def __init__(self, space: SearchSpace, *, seed: int = 0, hidden: int = 600, layers: int = 4,
                 dropout: float = 0.002, epochs: int = 100, batch_size: int = 64,
                 lr: float = 4e-4, weight_decay: float = 5e-4, num_threads: int | None = 1,
                 progress: bool | None = None, name: str = "", units: str = "") -> None:
        self.space = space
        self.seed = seed
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.num_threads = num_threads
        self.progress = progress
        self.name = name
        self.units = units

    def _fit_net(self, C: np.ndarray, z, torch):
        adj, feats = self._tensors(torch, self._graphs(C))
        net = self._new_net(feats.shape[-1])

        def step(idx):
            return (net(adj[idx], feats[idx]) - z[idx]).abs().mean()

        return net, self._train(torch, net, len(z), step, int(self.batch_size))


class GCNRanker(_GCNEstimator):
    """BRP-NAS's binary relation predictor, made antisymmetric: a shared GCN scores each graph
    and ``P(a > b) = sigmoid(score(a) - score(b))``, so ``P(a > b) + P(b > a) == 1`` exactly.

    Training uses every pair inside each batch of ``batch_size`` graphs (batches reshuffled
    every epoch), with the logistic loss against BRP-NAS's soft target
    ``sigmoid((z_a - z_b) / temperature)`` on standardised ``y`` (``targets="soft"``) or
    against ``1[y_a > y_b]`` (``targets="hard"``); pairs with equal ``y`` are skipped.

    Parameters as ``GCNRegressor``, with BRP-NAS's accuracy-predictor defaults (dropout 0.2,
    lr 3.5e-4, weight decay 5e-4, 250 epochs, batches of 64), plus ``targets`` and
    ``temperature``. ``predict(X)`` returns the score mapped to the metric's units by least
    squares on the training data (ranks unchanged); ``score(X, y)`` is Kendall's tau.
    """

    _parameter_constraints = {**_GCNEstimator._parameter_constraints,
                              "targets": [Options(("soft", "hard"))],
                              "temperature": [Interval("real", 0, None, closed="neither")]}

    def __init__(self, space: SearchSpace, *, seed: int = 0, hidden: int = 600, layers: int = 4,
                 dropout: float = 0.2, epochs: int = 250, batch_size: int = 64,
                 lr: float = 3.5e-4, weight_decay: float = 5e-4, targets: str = "soft",
                 temperature: float = 1.0, num_threads: int | None = 1,
                 progress: bool | None = None, name: str = "", units: str = "") -> None:
        self.space = space
        self.seed = seed
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.targets = targets
        self.temperature = temperature
        self.num_threads = num_threads
        self.progress = progress
        self.name = name
        self.units = units

    def _fit_net(self, C: np.ndarray, z, torch):
        from iqnas.calibration.nets import pairwise_loss

        if float(z.max() - z.min()) == 0.0:
            raise InputError("GCNRanker needs at least two different y values")
        adj, feats = self._tensors(torch, self._graphs(C))
        net = self._new_net(feats.shape[-1])
        hard, temp = self.targets == "hard", float(self.temperature)

        def step(idx):
            return pairwise_loss(net(adj[idx], feats[idx]), z[idx], hard, temp)

        return net, self._train(torch, net, len(z), step, int(self.batch_size))

    def _after_fit(self, C: np.ndarray, y: np.ndarray) -> None:
        from iqnas.calibration.neural import torch_session

        with torch_session(self.seed, self.num_threads) as torch, torch.no_grad():
            raw = self._raw_predict(C, torch)
        slope = float(np.polyfit(raw, y, 1)[0]) if np.ptp(raw) > 0 else 0.0
        self.scale_ = slope if slope > 0 else 1.0
        self.intercept_ = float(y.mean() - self.scale_ * raw.mean())

    def _to_units(self, raw: np.ndarray) -> np.ndarray:
        return self.intercept_ + self.scale_ * raw

    def decision_difference(self, A, B) -> np.ndarray:
        """``score(a) - score(b)`` row by row: the logit of ``P(a > b)``."""
        ca, cb = self._choices(A), self._choices(B)
        if ca.shape[0] != cb.shape[0]:
            raise InputError(f"A has {ca.shape[0]} rows but B has {cb.shape[0]}; pair them up")
        return (self.predict(ca) - self.predict(cb)) / self.scale_

    def predict_proba(self, A, B) -> np.ndarray:
        """``P(a > b)`` per row; exactly ``1 - predict_proba(B, A)``."""
        d = self.decision_difference(A, B)
        hi = expit(np.abs(d))
        return np.where(d >= 0, hi, 1.0 - hi)

    def score(self, X, y) -> float:
        """Kendall's tau between ``predict(X)`` and ``y``."""
        C, y = self._xy(X, y)
        return quality_report(y, self.predict(C))["kendall_tau"]


__all__ = ["GCNRanker", "GCNRegressor"]
