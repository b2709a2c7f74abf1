"""BINAS's MLP accuracy predictor on the one-hot vector, a baseline beside the quadratic models.

torch (CPU) is imported only in ``fit`` / ``predict``: ``pip install 'iqnas[torch]'``.
"""

from __future__ import annotations

import numpy as np

from iqnas._validation import Interval
from iqnas.calibration.neural import NEURAL_CONSTRAINTS, NeuralEstimator
from iqnas.space import SearchSpace

#: rows per forward pass in ``predict``
PREDICT_BATCH = 8192


class MLPRegressor(NeuralEstimator):
    """BINAS's MLP: Linear(n_vars, 500) + ReLU, 3 x [Linear(500, 500) + ReLU], Dropout(0.2),
    Linear(500, 1), on the one-hot vector; SmoothL1 loss on standardised ``y``, the output bias
    starting at the mean, AdamW with a cosine schedule.

    As in BINAS, ``validation_fraction`` of the rows (0.2) are held out and the weights of the
    epoch with the lowest held-out loss are kept (0 trains on every row and keeps the last
    epoch). BINAS trains full-batch at lr 1e-6 for 30,000 epochs; the defaults here are lr 1e-3,
    500 epochs, batches of 256 (see benchmarks/NOTES.md).

    Parameters: ``space``, ``seed``, ``width``, ``depth`` (hidden 500 x 500 layers),
    ``dropout``, ``epochs``, ``batch_size``, ``lr``, ``weight_decay``, ``validation_fraction``,
    ``num_threads``, ``progress``, ``name``, ``units`` (as for ``GCNRegressor``).
    Fitted: as ``GCNRegressor``, plus ``best_epoch_``.
    """

    _parameter_constraints = {**NEURAL_CONSTRAINTS, "width": [Interval("int", 1, None)],
                              "depth": [Interval("int", 0, None)],
                              "validation_fraction": [Interval("real", 0, 0.5)]}

    def __init__(self, space: SearchSpace, *, seed: int = 0, width: int = 500, depth: int = 3,
                 dropout: float = 0.2, epochs: int = 500, batch_size: int = 256,
                 lr: float = 1e-3, weight_decay: float = 1e-6,
                 validation_fraction: float = 0.2, num_threads: int | None = 1,
                 progress: bool | None = None, name: str = "", units: str = "") -> None:
        self.space = space
        self.seed = seed
        self.width = width
        self.depth = depth
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.num_threads = num_threads
        self.progress = progress
        self.name = name
        self.units = units

    def _onehot(self, torch, C: np.ndarray):
        return torch.as_tensor(self.space.choices_to_onehot(C), dtype=torch.float32)

    def _fit_net(self, C: np.ndarray, z, torch):
        from iqnas.calibration.nets import MLP

        x = self._onehot(torch, C)
        n = len(z)
        n_val = int(round(float(self.validation_fraction) * n))
        n_val = n_val if n - n_val >= 2 else 0
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(self.seed) + 1))
        val, train = perm[:n_val], perm[n_val:]
        net = MLP(x.shape[1], int(self.width), int(self.depth), float(self.dropout))
        with torch.no_grad():
            net.body[-1].bias.fill_(float(z[train].mean()))
        loss_fn = torch.nn.SmoothL1Loss()
        xt, zt = x[train], z[train]
        best: dict = {"loss": float("inf"), "state": None, "epoch": int(self.epochs) - 1}

        def step(idx):
            return loss_fn(net(xt[idx]), zt[idx])

        def on_epoch(epoch: int) -> None:
            if not n_val:
                return
            net.eval()
            with torch.no_grad():
                v = float(loss_fn(net(x[val]), z[val]))
            net.train()
            if v < best["loss"]:
                best.update(loss=v, epoch=epoch,
                            state={k: t.clone() for k, t in net.state_dict().items()})

        curve = self._train(torch, net, len(zt), step, int(self.batch_size), on_epoch)
        if best["state"] is not None:
            net.load_state_dict(best["state"])
        self.best_epoch_ = int(best["epoch"])
        return net, curve

    def _raw_predict(self, C: np.ndarray, torch) -> np.ndarray:
        x = self._onehot(torch, C)
        out = [self.net_(x[i:i + PREDICT_BATCH]) for i in range(0, len(x), PREDICT_BATCH)]
        return torch.cat(out).double().numpy()


__all__ = ["MLPRegressor"]
