"""The cluster file: JSON with the space's name, a hash of its variables and a content digest.

A file is refused (``InputError`` naming the file and the field) when it is not JSON, is for
another space (by name, or by its variables), misses or mistypes a field, or when its digest
does not match its content (a hand edit of a centroid would silently move the cell). Files are
written through a temporary file and renamed, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from iqnas._outputs import write_text_atomic
from iqnas.errors import InputError
from iqnas.reduction.cells import check_exact
from iqnas.reduction.features import LinearFeatures
from iqnas.space import SearchSpace

FORMAT = "iqnas.Cluster/1"
FIELDS = ("format", "space", "variables_sha256", "features", "centroids", "selected",
          "clusters", "settings", "digest")


def variables_digest(space: SearchSpace) -> str:
    """sha256 (16 hex digits) of the space's variable names in order."""
    return hashlib.sha256("\n".join(space.var_names()).encode()).hexdigest()[:16]


def content_digest(data: dict) -> str:
    """sha256 (16 hex digits) of every field but ``digest``, in canonical JSON."""
    body = {k: v for k, v in data.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars as Python numbers, NaN and inf as None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def encode(space: SearchSpace, features: LinearFeatures, centroids: np.ndarray, selected: int,
           clusters: list[dict], settings: dict) -> dict:
    names = space.var_names()
    rows, cols = np.nonzero(features.matrix)
    data = {
        "format": FORMAT,
        "space": space.name,
        "variables_sha256": variables_digest(space),
        "features": {
            "names": list(features.names), "kinds": list(features.kinds),
            "weights": features.weights.tolist(), "center": features.center.tolist(),
            "matrix": [[int(r), names[c], int(features.matrix[r, c])]
                       for r, c in zip(rows, cols)],
        },
        "centroids": np.asarray(centroids, dtype=float).tolist(),
        "selected": int(selected),
        "clusters": plain(clusters),
        "settings": plain(settings),
    }
    data["digest"] = content_digest(data)
    return data


def decode(data: Any, space: SearchSpace, source: str) -> dict:
    """The fields of a cluster file checked against ``space``: ``features``, ``centroids``,
    ``selected``, ``clusters`` and ``settings``."""
    def bad(msg: str) -> InputError:
        return InputError(f"{source}: {msg}")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(f"not a cluster file (expected a JSON object with format {FORMAT!r}; write it "
                  "with `iqnas reduce --out` or Cluster.save)")
    missing = [f for f in FIELDS if f not in data]
    if missing:
        raise bad(f"missing field(s) {', '.join(missing)}")
    if data["space"] != space.name:
        raise bad(f"the cluster file is for space {data['space']!r}, not {space.name!r}")
    if data["variables_sha256"] != variables_digest(space):
        raise bad(f"the cluster file was made for another version of space {space.name!r} "
                  "(its variables differ); run `iqnas reduce` again")
    if data["digest"] != content_digest(data):
        raise bad("the content does not match its digest (the file was edited or damaged); "
                  "run `iqnas reduce` again")
    f = data["features"]
    try:
        names, kinds = list(f["names"]), list(f["kinds"])
        weights, center = np.array(f["weights"], dtype=float), np.array(f["center"], dtype=float)
        matrix = np.zeros((len(names), space.n_vars))
        for r, var, coef in f["matrix"]:
            matrix[int(r), space.var_index_by_name(var)] = float(coef)
        features = LinearFeatures(space, tuple(names), tuple(kinds), matrix, weights, center)
        centroids = np.array(data["centroids"], dtype=float)
        check_exact(features, centroids)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise bad(f"bad 'features' or 'centroids' field ({exc})") from None
    selected = data["selected"]
    if isinstance(selected, bool) or not isinstance(selected, int) or \
            not 0 <= selected < len(centroids):
        raise bad(f"'selected' must be a cluster index 0..{len(centroids) - 1}, got {selected!r}")
    clusters, settings = data["clusters"], data["settings"]
    if not isinstance(clusters, list) or len(clusters) != len(centroids) or \
            not all(isinstance(c, dict) for c in clusters):
        raise bad(f"'clusters' must list one object per centroid ({len(centroids)})")
    if not isinstance(settings, dict):
        raise bad("'settings' must be an object")
    return {"features": features, "centroids": centroids, "index": selected,
            "clusters": clusters, "settings": settings}


def read(path: str | Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"cluster file not found: {path}")
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a cluster file (not readable JSON: {exc})") from None


def check_writable(path: str | Path) -> Path:
    """``path`` if a cluster file can be written there (checked before any work)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cluster file {path} is a folder; give a file name ending in .json")
    if path.suffix != ".json":
        raise InputError(f"cluster file {path}: the name must end in .json")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise InputError(f"cluster file {path}: the folder {path.parent} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"cluster file {path}: cannot write there (permission denied)")
    return path


def write(path: str | Path, data: dict) -> Path:
    """Write ``data`` as JSON through a temporary file in the same folder."""
    path = check_writable(path)
    return write_text_atomic(path, json.dumps(data, indent=1, allow_nan=False) + "\n",
                             "cluster file")


__all__ = ["FORMAT", "check_writable", "content_digest", "decode", "encode", "read",
           "variables_digest", "write"]
