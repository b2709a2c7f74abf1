"""Architectures as graphs for the GCN predictors (numpy only; no torch).

A :class:`GraphEncoding` turns an ``(n, n_groups)`` choices matrix into adjacency matrices
``(n, N, N)`` and node features ``(n, N, F)``, both float32, with BRP-NAS's conventions: node 0
is a global node whose row connects it to every node, every node has a self-loop, ``A[i, j] = 1``
for an edge ``i -> j`` (a graph convolution ``A @ (H @ W)`` makes each node aggregate its
successors and the global node everything), and nodes that do not take part hold a zero
feature row and only their self-loop.

- ``nb201``: BRP-NAS's cell graph. Nodes: global, input, the 6 edge operations (in the space's
  group order e01 e02 e12 e03 e13 e23), output. A ``none`` operation removes its node's edges, a
  ``skip_connect`` node is bypassed (its predecessors link to its successors), and every node not
  on an input-to-output path is dropped. A cell with no such path keeps only the global node.
  Features: one-hot over (conv1x1, conv3x3, avgpool3x3, input, output, global).
- ``mobilenet`` / ``ofa``: a chain. Nodes: global, input, the 20 block positions (stage-major),
  output; consecutive active blocks are linked, inactive blocks (beyond a stage's depth) are
  dropped. A block's features are its options one-hot (mobilenet: the 12 block options; ofa:
  kernel and expansion) and its stage one-hot; the input node carries the remaining choices
  (ofa: the resolution) one-hot.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from iqnas import spaces
from iqnas.calibration.features import as_choices
from iqnas.errors import InputError
from iqnas.space import SearchSpace

GRAPH_SPACES = ("nb201", "mobilenet", "ofa")


@dataclass(frozen=True)
class Graphs:
    """Adjacency ``(n, N, N)`` and node features ``(n, N, F)`` of ``n`` architectures."""

    adjacency: np.ndarray
    features: np.ndarray

    def __len__(self) -> int:
        return int(self.adjacency.shape[0])

    def __getitem__(self, idx) -> Graphs:
        return Graphs(self.adjacency[idx], self.features[idx])


class GraphEncoding:
    """Base class: ``encode(space, X) -> Graphs`` for one named space."""

    space_name: str = ""
    n_nodes: int = 0
    n_features: int = 0

    def encode_choices(self, C: np.ndarray) -> Graphs:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, space: SearchSpace, X) -> Graphs:
        """Graphs of ``X`` (architectures, keys, one-hot rows or a choices matrix of ``space``)."""
        if space.name != self.space_name:
            raise InputError(f"the {self.space_name} graph encoding cannot encode space "
                             f"{space.name!r}")
        return self.encode_choices(as_choices(space, X))


def _finish(adj: np.ndarray) -> np.ndarray:
    """Global row to every node, then self-loops (in place on an (n, N, N) array)."""
    adj[:, 0, 1:] = 1.0
    idx = np.arange(adj.shape[1])
    adj[:, idx, idx] = 1.0
    return adj


class NB201Graph(GraphEncoding):
    """BRP-NAS's encoding of a NAS-Bench-201 cell: 9 nodes, 6 features (see module doc)."""

    space_name = "nb201"
    n_nodes = 9
    n_features = 6
    #: feature column of each op (None: the op has no node of its own)
    OP_FEATURE = {"none": None, "skip_connect": None, "nor_conv_1x1": 0, "nor_conv_3x3": 1,
                  "avg_pool_3x3": 2}
    INPUT, OUTPUT = 1, 8
    #: successors of input and of each op node (in 1-based node numbers with the global at 0)
    WIRING = {1: (2, 3, 5), 2: (4, 6), 3: (7,), 4: (7,), 5: (8,), 6: (8,), 7: (8,)}

    def __init__(self) -> None:
        from iqnas.spaces.nb201 import OPS

        self._ops = OPS
        self._cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}

    def cell(self, ops: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Adjacency (9, 9) and features (9, 6) of one cell given its 6 op names."""
        n = self.n_nodes
        edges = np.zeros((n, n), dtype=bool)
        for src, dsts in self.WIRING.items():
            edges[src, list(dsts)] = True
        op_nodes = range(2, 8)
        for node, op in zip(op_nodes, ops):
            if op == "none":
                edges[node, :] = edges[:, node] = False
        for node, op in zip(op_nodes, ops):
            if op == "skip_connect":
                preds, succs = np.flatnonzero(edges[:, node]), np.flatnonzero(edges[node])
                edges[np.ix_(preds, succs)] = True
                edges[node, :] = edges[:, node] = False
        keep = _reach(edges, self.INPUT) & _reach(edges.T, self.OUTPUT)
        feats = np.zeros((n, self.n_features), dtype=np.float32)
        if keep[self.OUTPUT]:
            feats[self.INPUT, 3] = feats[self.OUTPUT, 4] = 1.0
            for node, op in zip(op_nodes, ops):
                col = self.OP_FEATURE[op]
                if col is not None and keep[node]:
                    feats[node, col] = 1.0
        else:
            keep[:] = False
        feats[0, 5] = 1.0
        adj = (edges & keep[:, None] & keep[None, :]).astype(np.float32)
        return _finish(adj[None])[0], feats

    def encode_choices(self, C: np.ndarray) -> Graphs:
        adj = np.empty((len(C), self.n_nodes, self.n_nodes), dtype=np.float32)
        feats = np.empty((len(C), self.n_nodes, self.n_features), dtype=np.float32)
        for i, row in enumerate(np.asarray(C, dtype=np.int64)):
            key = tuple(int(v) for v in row)
            hit = self._cache.get(key)
            if hit is None:
                hit = self._cache[key] = self.cell([self._ops[c] for c in key])
            adj[i], feats[i] = hit
        return Graphs(adj, feats)


def _reach(edges: np.ndarray, start: int) -> np.ndarray:
    """Nodes reachable from ``start`` along ``edges`` (``start`` included)."""
    seen = np.zeros(edges.shape[0], dtype=bool)
    seen[start] = True
    frontier = [start]
    while frontier:
        nxt = np.flatnonzero(edges[frontier].any(axis=0) & ~seen)
        seen[nxt] = True
        frontier = list(nxt)
    return seen


class ChainGraph(GraphEncoding):
    """A chain of blocks (mobilenet, ofa): global, input, ``len(blocks)`` blocks, output.

    ``blocks[j] = (stage, group names)``: the groups whose options describe block ``j`` (the
    first one's activity decides whether the block exists); ``input_groups`` are one-hot on the
    input node. Features: every block slot's options, the stage one-hot, the input groups'
    options, then the (input, output, global) flags.
    """

    def __init__(self, space: SearchSpace, blocks: Sequence[tuple[int, Sequence[str]]],
                 input_groups: Sequence[str]) -> None:
        self.space_name = space.name
        self._blocks = [[space.group_index(g) for g in groups] for _, groups in blocks]
        self._stages = np.array([s for s, _ in blocks], dtype=np.int64)
        self._input = [space.group_index(g) for g in input_groups]
        stages = sorted(set(self._stages.tolist()))
        self._stage_col = {s: k for k, s in enumerate(stages)}
        sizes = space.sizes
        slot_sizes = [int(sizes[g]) for g in self._blocks[0]]
        if any([int(sizes[g]) for g in b] != slot_sizes for b in self._blocks):
            raise InputError(f"space {space.name!r}: every block needs the same option counts")
        self._slot_off = np.concatenate([[0], np.cumsum(slot_sizes)[:-1]]).astype(np.int64)
        self._stage_off = int(sum(slot_sizes))
        self._input_off = self._stage_off + len(stages)
        in_sizes = [int(sizes[g]) for g in self._input]
        self._in_group_off = self._input_off + np.concatenate(
            [[0], np.cumsum(in_sizes)[:-1]]).astype(np.int64)
        self._flag_off = self._input_off + int(sum(in_sizes))
        self.n_features = self._flag_off + 3
        self.n_nodes = len(blocks) + 3
        self._conditions = space.conditions

    def _active(self, C: np.ndarray) -> np.ndarray:
        act = np.ones((len(C), len(self._blocks)), dtype=bool)
        for j, groups in enumerate(self._blocks):
            cond = self._conditions.get(groups[0])
            if cond is not None:
                ctrl, mask = cond
                act[:, j] = mask[C[:, ctrl]]
        return act

    def encode_choices(self, C: np.ndarray) -> Graphs:
        C = np.asarray(C, dtype=np.int64)
        n = len(C)
        N = self.n_nodes
        inp, out = 1, N - 1
        rows = np.arange(n)
        act = np.concatenate([np.ones((n, 1), bool), self._active(C), np.ones((n, 1), bool)],
                             axis=1)  # nodes 1..N-1
        adj = np.zeros((n, N, N), dtype=np.float32)
        nxt = np.full(n, out, dtype=np.int64)  # next active node after position j
        for j in range(out - 1, inp - 1, -1):
            on = act[:, j - 1]
            adj[rows[on], j, nxt[on]] = 1.0
            nxt = np.where(on, j, nxt)
        feats = np.zeros((n, N, self.n_features), dtype=np.float32)
        for j, groups in enumerate(self._blocks):
            on = act[:, j + 1]
            node = j + 2
            for slot, g in enumerate(groups):
                feats[rows[on], node, self._slot_off[slot] + C[on, g]] = 1.0
            feats[on, node, self._stage_off + self._stage_col[int(self._stages[j])]] = 1.0
        for off, g in zip(self._in_group_off, self._input):
            feats[rows, inp, off + C[:, g]] = 1.0
        feats[:, inp, self._flag_off] = 1.0
        feats[:, out, self._flag_off + 1] = 1.0
        feats[:, 0, self._flag_off + 2] = 1.0
        return Graphs(_finish(adj), feats)


def _mobilenet(space: SearchSpace) -> ChainGraph:
    from iqnas.spaces import mobilenet as mb

    blocks = [(s, [mb.block_group(s, b)]) for s in range(1, mb.N_STAGES + 1)
              for b in range(1, mb.N_BLOCKS + 1)]
    return ChainGraph(space, blocks, [])


def _ofa(space: SearchSpace) -> ChainGraph:
    from iqnas.spaces import ofa

    blocks = [(s, [ofa.kernel_group(s, b), ofa.expand_group(s, b)])
              for s in range(1, ofa.N_STAGES + 1) for b in range(1, ofa.N_BLOCKS + 1)]
    return ChainGraph(space, blocks, [ofa.RES_GROUP])


_ENCODINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def graph_encoding(space: SearchSpace) -> GraphEncoding:
    """The graph encoding of a built-in space (one per space object, so encodings are cached
    across estimators); InputError for a space without one."""
    name = getattr(space, "name", space)
    if name not in GRAPH_SPACES or not isinstance(space, SearchSpace):
        raise InputError(f"space {name!r} has no graph encoding; the GCN predictors support "
                         f"{', '.join(GRAPH_SPACES)}")
    enc = _ENCODINGS.get(space)
    if enc is None and space.content_hash() != spaces.get(name).content_hash():
        raise InputError(f"space {name!r} has no graph encoding: it is not the built-in "
                         f"{name!r} space (other groups or options); the GCN predictors support "
                         f"the built-in {', '.join(GRAPH_SPACES)}")
    if enc is None:
        if name == "nb201":
            enc = NB201Graph()
        else:
            enc = _mobilenet(space) if name == "mobilenet" else _ofa(space)
        _ENCODINGS[space] = enc
    return enc


__all__ = ["GRAPH_SPACES", "ChainGraph", "GraphEncoding", "Graphs", "NB201Graph",
           "graph_encoding"]
