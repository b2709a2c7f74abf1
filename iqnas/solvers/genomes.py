"""Genomes of the evolutionary searchers, vectorised over rows.

A genome holds an option for every group; a group that is inactive in its architecture keeps an
unexpressed (hidden) gene. ``space.canonical(G)`` gives the architectures genomes encode.
"""

from __future__ import annotations

import numpy as np

from iqnas.space import SearchSpace


def with_hidden_genes(space: SearchSpace, rng: np.random.Generator, C: np.ndarray) -> np.ndarray:
    """Genomes: canonical rows whose inactive groups get random (unexpressed) options."""
    G = np.array(C, dtype=np.int64, copy=True)
    if space.conditions:
        draw = rng.integers(0, space.sizes[None, :], size=G.shape)
        G = np.where(space.activity(G), G, draw)
    return G


def random_genomes(space: SearchSpace, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` genomes whose architectures are uniform over the space."""
    return with_hidden_genes(space, rng, space.sample_choices(rng, n))


def mutate_genes(space: SearchSpace, rng: np.random.Generator, G: np.ndarray,
                 prob: float) -> np.ndarray:
    """Resample each gene uniformly with probability ``prob`` (BINAS / OFA mutation)."""
    draw = rng.integers(0, space.sizes[None, :], size=G.shape)
    return np.where(rng.random(G.shape) < prob, draw, G)


def mutate_one(space: SearchSpace, rng: np.random.Generator, G: np.ndarray) -> np.ndarray:
    """Change one active group per row to a different option (REA / FreeREA mutation)."""
    G = np.array(G, dtype=np.int64, copy=True)
    if G.shape[0] == 0:
        return G
    movable = space.activity(G) & (space.sizes[None, :] > 1)
    keys = np.where(movable, rng.random(G.shape), -1.0)
    g = keys.argmax(axis=1)
    rows = np.arange(G.shape[0])
    ok = movable[rows, g]
    r = rng.integers(0, np.maximum(space.sizes[g] - 1, 1))
    cur = G[rows, g]
    new = r + (r >= cur)
    G[rows[ok], g[ok]] = new[ok]
    return G


def crossover(rng: np.random.Generator, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Uniform crossover: each gene from either parent with probability 1/2."""
    return np.where(rng.random(A.shape) < 0.5, A, B)


def row_keys(C: np.ndarray) -> list[bytes]:
    C = np.ascontiguousarray(C, dtype=np.int64)
    return [r.tobytes() for r in C]
