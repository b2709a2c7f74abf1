"""What the torch-trained estimators (GCN, MLP) share: the lazy torch import, a seeded session
with a fixed thread count, target standardisation and the epoch loop with its progress bar.

Importing this module does not import torch.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from iqnas._progress import progress_bar
from iqnas._validation import Boolean, Interval
from iqnas.calibration.estimators import SPACE, BaseEstimator
from iqnas.calibration.features import as_choices
from iqnas.errors import InputError, NotFittedError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: the parameters every torch-trained estimator takes and what each accepts
NEURAL_CONSTRAINTS: dict[str, list] = {
    "space": SPACE,
    "seed": [Interval("int", 0, None)],
    "epochs": [Interval("int", 1, None)],
    "batch_size": [Interval("int", 2, None)],
    "lr": [Interval("real", 0, None, closed="neither")],
    "weight_decay": [Interval("real", 0, None)],
    "dropout": [Interval("real", 0, 0.95)],
    "num_threads": [Interval("int", 1, None), None],
    "progress": [Boolean(), None],
    "name": [str],
    "units": [str],
}


def require_torch(what: str) -> Any:
    """The torch module, or an InputError saying how to install it."""
    try:
        import torch
    except ImportError:
        raise InputError(f"{what} needs torch: pip install 'iqnas[torch]'") from None
    return torch


@contextlib.contextmanager
def torch_session(seed: int, num_threads: int | None) -> Iterator[Any]:
    """Yield torch with its global random state seeded by ``seed`` and ``num_threads``
    intra-op threads; both are restored afterwards."""
    torch = require_torch("this estimator")
    old = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        if num_threads is not None:
            torch.set_num_threads(int(num_threads))
        try:
            yield torch
        finally:
            torch.set_num_threads(old)


def batches(n: int, size: int, gen: torch.Generator) -> list[torch.Tensor]:
    """A shuffled split of ``range(n)`` into batches of ``size`` (the last may be smaller; a
    last batch of one row is merged into the one before, so pairwise losses see pairs)."""
    import torch

    perm = torch.randperm(n, generator=gen)
    out = list(perm.split(size))
    if len(out) > 1 and len(out[-1]) == 1:
        out[-2] = torch.cat([out[-2], out.pop()])
    return out


class NeuralEstimator(BaseEstimator):
    """Base of the torch-trained estimators. Subclasses define ``_fit_net(C, z, torch)``
    (returning the trained module in eval mode) and ``_raw_predict(C, torch)``.

    Targets are standardised (``y_mean_``, ``y_scale_``) before training; ``predict`` maps back.
    Fitted: ``net_`` (the torch module), ``loss_curve_`` (mean training loss per epoch),
    ``fit_time_`` (s), ``n_features_in_``, ``space_name_``, ``space_hash_``.
    """

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 "'fit' with appropriate arguments before using this estimator.")

    def _choices(self, X) -> np.ndarray:
        """``X`` as choices of the space the estimator was fitted on."""
        self._check_fitted()
        space = self._check_space()
        if space.name != self.space_name_:
            raise InputError(f"this {type(self).__name__} was trained on space "
                             f"{self.space_name_!r}, not {space.name!r}; fit it on that space")
        if space.content_hash() != self.space_hash_:
            raise InputError(f"this {type(self).__name__} was trained on another space named "
                             f"{space.name!r} (content hash {self.space_hash_[:19]}, not "
                             f"{space.content_hash()[:19]}); fit it on this space")
        return as_choices(space, X)

    def fit(self, X, y):
        C, y = self._xy(X, y)
        self._check_params()
        require_torch(f"{type(self).__name__}")
        t0 = time.perf_counter()
        mean, scale = float(y.mean()), float(y.std())
        scale = scale if scale > 0 else 1.0
        with torch_session(self.seed, self.num_threads) as torch:
            z = torch.as_tensor((y - mean) / scale, dtype=torch.float32)
            net, curve = self._fit_net(C, z, torch)
        self.net_ = net
        self.loss_curve_ = curve
        self.y_mean_, self.y_scale_ = mean, scale
        self.n_features_in_ = self.space.n_vars
        self.space_name_ = self.space.name
        self.space_hash_ = self.space.content_hash()
        self._after_fit(C, y)
        self.fit_time_ = time.perf_counter() - t0
        log.debug("%s: %d epochs on %d rows in %.1f s, final loss %.4g", type(self).__name__,
                  len(curve), len(y), self.fit_time_, curve[-1] if curve else float("nan"))
        return self

    def _check_params(self) -> None:
        """Every parameter against ``_parameter_constraints`` (one-line InputError)."""
        self._validate_params()

    def _after_fit(self, C: np.ndarray, y: np.ndarray) -> None:
        """Hook after training (e.g. a ranker's calibration to the metric's units)."""

    def _train(self, torch, net, n: int, step: Callable[[torch.Tensor], torch.Tensor],
               batch_size: int, on_epoch: Callable[[int], None] | None = None) -> list[float]:
        """AdamW with a cosine learning-rate schedule over ``epochs``; ``step(idx)`` returns the
        loss of the rows ``idx``; ``on_epoch(epoch)`` runs after each epoch. Returns the mean
        training loss per epoch."""
        opt = torch.optim.AdamW(net.parameters(), lr=float(self.lr),
                                weight_decay=float(self.weight_decay))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(self.epochs))
        gen = torch.Generator().manual_seed(int(self.seed))
        curve: list[float] = []
        net.train()
        label = self.name or type(self).__name__
        with progress_bar(self.progress, f"{label}: training", int(self.epochs)) as advance:
            for epoch in range(int(self.epochs)):
                total, rows = 0.0, 0
                for idx in batches(n, batch_size, gen):
                    loss = step(idx)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(idx)
                    rows += len(idx)
                sched.step()
                curve.append(total / max(rows, 1))
                if on_epoch is not None:
                    on_epoch(epoch)
                advance()
        net.eval()
        return curve

    def predict(self, X) -> np.ndarray:
        """Predicted values of ``X`` (architectures, keys or one-hot rows)."""
        C = self._choices(X)
        if len(C) == 0:
            return np.zeros(0)
        with torch_session(self.seed, self.num_threads) as torch, torch.no_grad():
            raw = self._raw_predict(C, torch)
        return self._to_units(raw)

    def _to_units(self, raw: np.ndarray) -> np.ndarray:
        return raw * self.y_scale_ + self.y_mean_


__all__ = ["NEURAL_CONSTRAINTS", "NeuralEstimator", "require_torch", "torch_session"]
