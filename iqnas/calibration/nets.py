"""torch modules of the neural predictors: BRP-NAS's GCN and BINAS's MLP.

This module imports torch at import time; the estimators (``gcn.py``, ``mlp.py``) import it
only inside ``fit``/``predict``, through :func:`require_torch`.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class GraphConvolution(nn.Module):
    """``H' = A @ (H @ W) + b`` with BRP-NAS's uniform(+-1/sqrt(out)) initialisation."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out))
        bound = 1.0 / math.sqrt(n_out)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return adj @ (h @ self.weight) + self.bias


class GCN(nn.Module):
    """Graph convolutions, each followed by LayerNorm, ReLU and dropout; returns the global
    node's (node 0) embedding. The last layer computes only the global node's row."""

    def __init__(self, n_features: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        sizes = [n_features] + [hidden] * layers
        self.convs = nn.ModuleList(GraphConvolution(a, b) for a, b in zip(sizes, sizes[1:]))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)

    def forward(self, adj: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        h = feats
        last = len(self.convs) - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            a = adj[:, :1, :] if i == last else adj  # only node 0 is read out
            h = self.dropout(torch.relu(norm(conv(h, a))))
        return h[:, 0, :]


class GCNPredictor(nn.Module):
    """The GCN with one linear head: a regression value or, compared between two graphs, the
    binary relation ``P(a > b) = sigmoid(head(a) - head(b))`` (antisymmetric)."""

    def __init__(self, n_features: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.gcn = GCN(n_features, hidden, layers, dropout)
        self.head = nn.Linear(hidden, 1)

    def forward(self, adj: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        return self.head(self.gcn(adj, feats)).squeeze(-1)

    def relation_logit(self, adj_a, feats_a, adj_b, feats_b) -> torch.Tensor:
        """The logit of ``P(a > b)``: ``head(emb_a) - head(emb_b)``."""
        return self(adj_a, feats_a) - self(adj_b, feats_b)


class MLP(nn.Module):
    """BINAS's MLP predictor: Linear(n, w)+ReLU, ``depth`` x [Linear(w, w)+ReLU], Dropout,
    Linear(w, 1)."""

    def __init__(self, n_in: int, width: int, depth: int, dropout: float) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.Linear(n_in, width), nn.ReLU()]
        for _ in range(depth):
            mods += [nn.Linear(width, width), nn.ReLU()]
        mods += [nn.Dropout(dropout), nn.Linear(width, 1)]
        self.body = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(-1)


def pairwise_loss(scores: torch.Tensor, targets: torch.Tensor, hard: bool,
                  temperature: float) -> torch.Tensor:
    """Mean logistic loss of ``scores[i] - scores[j]`` over the pairs ``i < j`` of a batch with
    different targets, against ``sigmoid((t_i - t_j) / temperature)`` (soft, BRP-NAS) or
    ``1[t_i > t_j]`` (hard)."""
    i, j = torch.triu_indices(len(scores), len(scores), offset=1)
    dt = targets[i] - targets[j]
    keep = dt != 0
    if not bool(keep.any()):
        return scores.sum() * 0.0
    logits = scores[i][keep] - scores[j][keep]
    target = (dt[keep] > 0).to(scores.dtype) if hard else torch.sigmoid(dt[keep] / temperature)
    return nn.functional.binary_cross_entropy_with_logits(logits, target)


__all__ = ["GCN", "GCNPredictor", "GraphConvolution", "MLP", "pairwise_loss"]
