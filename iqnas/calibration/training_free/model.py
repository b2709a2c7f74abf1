"""TrainingFreeModel: what training-free calibration fits, and its JSON file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from iqnas import spaces
from iqnas._outputs import write_text_atomic
from iqnas.calibration.proxies import FreeREAScore, skip_score
from iqnas.errors import InputError
from iqnas.problem import Problem, check_budget
from iqnas.quadform import QuadraticForm
from iqnas.space import Architecture, SearchSpace

TARGETS = ("score", "rank")
FORMAT = "iqnas.TrainingFreeModel/1"


@dataclass
class TrainingFreeModel:
    """What training-free calibration fits, all of it needed to reuse the search.

    ``model``: the quadratic fitted to the combined score (to its ranks with ``target="rank"``);
    ``score``: the combined score with its fixed normalisation; ``resource_forms`` and
    ``constraints``: the form and budget of each budgeted metric; ``columns``: the oracle column
    of each training-free metric (None: computed from the architecture).
    """

    space: SearchSpace
    model: QuadraticForm
    score: FreeREAScore
    resource_forms: dict[str, QuadraticForm]
    constraints: dict[str, float]
    columns: dict[str, str | None]
    target: str = "score"

    def problem(self, exclude: Sequence = ()) -> Problem:
        """The IQP: maximise the fitted score under the budgets with the resource forms."""
        cons = {m: (self.resource_forms[m], b) for m, b in self.constraints.items()}
        return Problem(self.space, self.model, cons, exclude=exclude)

    def metric_values(self, arch: Architecture | str, oracle) -> dict[str, float]:
        """The training-free metrics of one architecture, measured by ``oracle``."""
        a = self.space.to_arch(arch)
        values = oracle.measure(a) if any(c is not None for c in self.columns.values()) else {}
        return {m: skip_score(a) if c is None else float(values[c])
                for m, c in self.columns.items()}

    def exact_score(self, arch: Architecture | str, oracle) -> float:
        """The combined score of one architecture from its measured metrics (fixed scale)."""
        return float(self.score.score(self.metric_values(arch, oracle)))

    # ---- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": FORMAT, "space": self.space.name, "target": self.target,
                "columns": dict(self.columns), "constraints": dict(self.constraints),
                "model": self.model.to_dict(), "score": self.score.to_dict(),
                "resource_forms": {m: f.to_dict() for m, f in self.resource_forms.items()}}

    def save(self, path: str | Path) -> Path:
        """Write the model, the score's normalisation and the budgets as one JSON file."""
        path = Path(path)
        if path.suffix != ".json":
            raise InputError(f"a TrainingFreeModel is saved as .json, not {path.suffix!r}")
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=1), "model file")

    @classmethod
    def from_dict(cls, d: dict, space: SearchSpace | str | None = None) -> TrainingFreeModel:
        """The model of a document; ``space`` (default: the built-in space it names) must be
        given for a space from a file."""
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise InputError(f"not a TrainingFreeModel document (format {FORMAT!r} expected); "
                             "write it with TrainingFreeModel.save")
        if space is not None and spaces.get(space).name != d.get("space"):
            raise InputError(f"TrainingFreeModel document is for space {d.get('space')!r}, not "
                             f"{spaces.get(space).name!r}")
        try:
            space = spaces.get(d["space"] if space is None else space)
            model = QuadraticForm.from_dict(d["model"], space)
            score = FreeREAScore.from_json(json.dumps(d["score"]))
            forms = {str(m): QuadraticForm.from_dict(f, space)
                     for m, f in d["resource_forms"].items()}
            cons = {str(m): check_budget(m, b) for m, b in d["constraints"].items()}
            columns = {str(m): None if c is None else str(c) for m, c in d["columns"].items()}
            target = d["target"]
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"TrainingFreeModel document is incomplete ({exc!r}); write it "
                             "with TrainingFreeModel.save") from None
        if set(forms) != set(cons) or list(columns) != list(score.metrics) \
                or target not in TARGETS:
            raise InputError("TrainingFreeModel document is inconsistent (budgets without "
                             "forms, metrics that differ from the score's, or a bad target)")
        return cls(space, model, score, forms, cons, columns, target)

    @classmethod
    def load(cls, path: str | Path, space: SearchSpace | str | None = None) -> TrainingFreeModel:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"file not found: {path}")
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} is not JSON: {exc}") from None
        return cls.from_dict(d, space)
