"""The report's sections, each made of tables and plotly figures of :mod:`iqnas.plotdata`."""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from iqnas._version import __version__
from iqnas.plotdata import (
    axis_label,
    depth_data,
    interaction_data,
    main_effects_data,
    pareto_data,
    progress_data,
    quality_data,
    width_data,
)
from iqnas.plotdata.effects import has_rows
from iqnas.plotdata.labels import with_units
from iqnas.plotdata.progress import scenario_label
from iqnas.plotdata.quality import run_estimators
from iqnas.reporting import figures as F
from iqnas.reporting.html import esc, note, page, pairs, table
from iqnas.reporting.inputs import ReportInputs
from iqnas.reporting.measured import measured_summary

log = logging.getLogger(__name__)

#: section ids and titles, in page order
SECTIONS = (("run", "Run"), ("progress", "Progress over rounds"), ("front", "Pareto front"),
            ("coefficients", "What pays: coefficient tables"), ("quality", "Model quality"),
            ("samples", "Samples"), ("networks", "Chosen networks"))


@dataclass
class Figure:
    """One figure of the report: its data (drawn by matplotlib with ``--figures``) and the
    plotly figure made from it."""

    name: str
    data: object
    plot: object
    caption: str = ""

    def html(self) -> str:
        return F.figure_html(self.name, self.plot, self.caption)


class Report:
    """Builds the page of one :class:`ReportInputs`."""

    def __init__(self, inp: ReportInputs, *, title: str | None = None, xlabel: str | None = None,
                 ylabel: str | None = None, n_bootstrap: int = 50, seed: int = 0) -> None:
        self.inp, self.run = inp, inp.run
        self.title = title or f"iqnas run: {self.run.space.name}, {self.run.objective}"
        self.xlabel, self.ylabel = xlabel, ylabel
        self.n_bootstrap, self.seed = n_bootstrap, seed
        self.figures: list[Figure] = []
        run = self.run
        self.units = {m: f.units for m, f in run.models.items()}
        self.units.update({m: u for m, u in inp.meta.get("units", {}).items()
                           if not self.units.get(m)})

    def unit(self, metric: str) -> str:
        return self.units.get(metric, "")

    def add(self, name: str, data, plot, caption: str = "") -> str:
        fig = Figure(name, data, plot, caption)
        self.figures.append(fig)
        return fig.html()

    # ---- the page -------------------------------------------------------------------------
    def html(self, plotly_js: str) -> str:
        bodies = {"run": self.run_section, "progress": self.progress_section,
                  "front": self.front_section, "coefficients": self.coefficients_section,
                  "quality": self.quality_section, "samples": self.samples_section,
                  "networks": self.networks_section}
        sections = []
        for sid, title in SECTIONS:
            log.info("report: %s", title)
            sections.append((sid, title, bodies[sid]()))
        run = self.run
        subtitle = (f"space {run.space.name}, objective {run.objective}, {len(run.samples)} "
                    f"samples in {len(run.history)} rounds; store {run.store_path}")
        footer = (f"iqnas {__version__}, {datetime.now().isoformat(timespec='seconds')}. "
                  "Self-contained: plotly.js and every figure are inline; nothing is loaded "
                  "from the network.")
        return page(self.title, subtitle, sections, plotly_js, footer)

    # ---- run ------------------------------------------------------------------------------
    def run_section(self) -> str:
        run, inp, s = self.run, self.inp, self.run.settings
        space = run.space
        rec = inp.meta.get("oracle") or {}
        oracle = (f"{rec.get('name', '?')} ({rec.get('type', '?')}, "
                  f"{'a table of the whole space' if rec.get('table') else 'not a table'})"
                  if rec else (inp.oracle.name if inp.oracle is not None else "not recorded"))
        items = [
            ("store", str(run.store_path)), ("created", inp.meta.get("created", "")),
            ("space", f"{space.name}: {space.description}"),
            ("architectures", f"{_count(space.size)} ({space.n_groups} groups, "
                              f"{space.n_vars} binary variables)"),
            ("oracle", f"{oracle}; {inp.oracle_how}"),
            ("objective", f"{axis_label(run.objective, self.unit(run.objective))}, maximised"),
            ("budget scenarios", "; ".join(scenario_label(sc, self.units)
                                           for sc in run.scenarios)),
            ("samples", f"{len(run.samples)} measured of {s.get('n_samples', '?')} planned, "
                        f"{len(run.history)} rounds (of {s.get('rounds', '?')})"),
            ("selection", f"{s.get('selection', '?')}, first round {s.get('initial', '?')}, "
                          f"top share {s.get('top_share', '?')}, explore "
                          f"{s.get('explore', '?')}, solver {s.get('solver', '?')}"),
            ("models", f"method {s.get('method', '?')}, objective terms {s.get('terms', '?')}, "
                       f"resource terms {s.get('resource_terms', '?')}"),
            ("seed", s.get("seed", "")),
        ]
        if s.get("restrict"):
            items.append(("restricted to", f"cluster {s['restrict']}"))
        body = pairs(items)
        body += "<h3>What was measured</h3>"
        metrics = list(run.settings.get("metrics") or run.models)
        rows, everything = measured_summary(run.samples, metrics, run.objective)
        body += table(("kind", "metrics measured", "samples"), rows)
        if everything:
            body += note(f"All metrics measured: every sample is trained and has every metric "
                         f"({', '.join(metrics)}).")
        failures = inp.failures
        body += (note(f"{len(failures)} measurements failed and were left out (see the "
                      "store's failures table).") if len(failures) else
                 note("No measurement failed."))
        if len(failures):
            body += table(("key", "error", "attempts", "round"),
                          failures[["key", "error", "attempts", "round"]].itertuples(
                              index=False), keys=(0,), scroll=True)
        body += "<h3>Model per metric</h3>"
        est = run_estimators(run)
        origin = run.settings.get("models", {})
        recorded = inp.meta.get("model_choice") or {}
        body += table(("metric", "units", "model", "form"),
                      [(m, self.unit(m), recorded.get(m) or _describe(est[m]),
                        origin.get(m, "")) for m in run.models])
        body += "<h3>Rounds</h3>"
        rounds = []
        for r, part in run.samples.groupby("round", sort=True):
            src = ", ".join(f"{k} {v}" for k, v in part["source"].value_counts().items())
            rounds.append((int(r), len(part), int((run.samples["round"] <= r).sum()), src))
        body += table(("round", "measured", "total", "sources"), rounds)
        return body

    # ---- progress -------------------------------------------------------------------------
    def progress_section(self) -> str:
        run, oracle = self.run, self.inp.oracle
        table_rows, reason = None, ""
        if oracle is not None and getattr(oracle, "exhaustive", False):
            table_rows = oracle.table()
        elif oracle is not None:
            reason = (f"the oracle ({oracle.name}) is not a table of the whole space: no "
                      "random-search baseline")
        else:
            reason = f"no random-search baseline: {self.inp.oracle_how}"
        data = progress_data(run.samples, run.objective, run.scenarios, self.units, table_rows,
                             required=run.settings.get("metrics", ()), no_table_reason=reason)
        caption = ("Staircase: the best measured network that meets every budget, after each "
                   "measurement (dots: where it improved; dotted lines: ends of rounds).")
        if table_rows is not None:
            caption += (" Dashed: random search on the same number of networks drawn uniformly "
                        "from the table, its exact expected best and 10-90 % band.")
        body = self.add("progress", data, F.progress_figure(data), caption)
        if data.note:
            body += note(data.note[0].upper() + data.note[1:] + ".")
        if run.settings.get("restrict") and table_rows is not None:
            body += note("The run was restricted to a cluster; the baseline draws from the "
                         "whole table.")
        return body

    # ---- front ----------------------------------------------------------------------------
    def front_section(self) -> str:
        sw = self.inp.sweep
        if sw is None:
            return note("No sweep given. Solve the fitted models over a range of budgets with "
                        "`iqnas sweep ... --out sweep.jsonl` and pass --sweep sweep.jsonl.")
        data = pareto_data(sw, xlabel=self.xlabel, ylabel=self.ylabel)
        caption = ("Predicted front: the exact IQP answers of the fitted models at each budget "
                   "(grey dotted lines: the swept budgets"
                   + (f", {data.budget_units}" if data.budget_units else "") + ").")
        if sw.truth is not None:
            caption += " Measured: the oracle's values of the same networks."
        if sw.has_true_front:
            caption += " True front: the table's best network at each budget."
        body = self.add("front", data, F.pareto_figure(data), caption)
        df = sw.to_dataframe()
        names = [c.name for c in sw.problem.constraints]
        cols = ["budget", "status", "objective", *names]
        head = [f"budget ({self.unit(sw.resource) or '-'})", "status",
                axis_label(f"predicted {sw.problem.objective.name or 'objective'}",
                           sw.problem.objective.units)]
        head += [axis_label(f"predicted {n}", sw.problem.constraint(n).units) for n in names]
        if sw.truth is not None:
            cols += ["true_objective", *[f"true_{n}" for n in sw.truth.metrics], "true_feasible"]
            head += [axis_label(f"measured {sw.truth.objective_metric}",
                                self.unit(sw.truth.objective_metric))]
            head += [axis_label(f"measured {n}", sw.problem.constraint(n).units)
                     for n in sw.truth.metrics] + ["truly feasible"]
        cols.append("key")
        head.append("key")
        rows = [[_cell(r[c]) for c in cols] for _, r in df.iterrows()]
        body += "<h3>Points</h3>" + table(head, rows, sortable=True, keys=(len(cols) - 1,),
                                          scroll=True)
        if sw.has_true_front:
            regret = sw.true_front()["regret"].dropna()
            if len(regret):
                body += note(f"Regret against the true front (measured): mean "
                             f"{regret.mean():.4g}, max {regret.max():.4g} "
                             f"{self.unit(self.run.objective)}.")
        return body

    # ---- coefficients ---------------------------------------------------------------------
    def explained(self):
        from iqnas.calibration.run import make_estimator
        from iqnas.interpret import explain

        run = self.run
        form = run.models[run.objective]
        resources = {m: run.models[m] for sc in run.scenarios for m in sc if m in run.models}
        boot = self.n_bootstrap if self.n_bootstrap >= 2 and len(run.samples) >= 3 else 0
        est = make_estimator(run.space, run.objective, run.objective, run.settings, form.units)
        return explain(form, samples=run.samples if boot else None, n_bootstrap=boot,
                       estimator=est, resources=resources, seed=self.seed,
                       metric=run.objective,
                       tables=["main", "interactions", "depth", "width", "resources"]), boot

    def coefficients_section(self) -> str:
        run = self.run
        df, boot = self.explained()
        obj = run.objective
        body = note(f"Effects are exact averages over uniformly random architectures of the "
                    f"fitted {obj} model (iqnas.explain). "
                    + (f"Error bars: 95 % bootstrap intervals from {boot} refits on resampled "
                       "samples, with the estimator of the run (where a point lies outside "
                       "its interval the bar also reaches the point; the hover text gives the "
                       "interval)." if boot else
                       "No bootstrap intervals (--bootstrap 0)."))
        body += "<h3>Main effects</h3>"
        main = main_effects_data(df, obj)
        body += self.add("main-effects", main, F.effects_figure(main, self.unit(obj)),
                         "Each option against the first option of its group.")
        body += "<h3>Interactions</h3>"
        if has_rows(df, "interactions", obj):
            inter = interaction_data(df, obj)
            body += self.add("interactions", inter, F.matrix_figure(inter),
                             "Root mean square of the centred interaction block of each pair "
                             "of groups (0: no product term).")
        else:
            body += note("The objective model has no interaction terms (a linear model).")
        body += "<h3>Depth and width per stage and block</h3>"
        if has_rows(df, "depth", obj):
            depth = depth_data(df, obj)
            body += self.add("depth", depth, F.bars_figure(depth),
                             "What adding block d to a stage is worth on average (BINAS: "
                             "depth pays most in deeper stages).")
        if has_rows(df, "width", obj):
            width = width_data(df, obj)
            body += self.add("width", width, F.bars_figure(width),
                             "The widest expansion minus the narrowest, per block (BINAS: "
                             "width pays most at the start of each resolution stage).")
        if not has_rows(df, "depth", obj) and not has_rows(df, "width", obj):
            body += note(f"The {run.space.name} space has no stage depth or block width "
                         "decisions: no depth or width charts (they appear for macro spaces "
                         "such as ofa and mobilenet).")
        for m in dict.fromkeys(m for sc in run.scenarios for m in sc):
            if has_rows(df, "resources", m):
                body += f"<h3>Cost per option: {esc(m)}</h3>"
                cost = main_effects_data(df, m, table="resources")
                body += self.add(f"cost-{_slug(m)}", cost, F.effects_figure(cost, self.unit(m)),
                                 f"The fitted {m} model's average cost of each option.")
        return body

    # ---- quality --------------------------------------------------------------------------
    def quality_section(self) -> str:
        run = self.run
        est = run_estimators(run)
        data = quality_data(run.space, run.samples, est, self.units)
        q = data.table
        recorded = self.inp.meta.get("model_choice") or {}
        rows = [(m, recorded.get(m) or data.models[m], int(q.at[m, "n"]), q.at[m, "kendall_tau"],
                 q.at[m, "spearman"], q.at[m, "rmse"], q.at[m, "mae"], q.at[m, "within_10pct"],
                 q.at[m, "r2"]) for m in q.index]
        head = ("metric", "model", "n", "Kendall tau", "Spearman",
                "RMSE", "MAE", "within +/-10 %", "R^2")
        body = note(f"Out-of-fold predictions of a {data.cv}-fold refit with each metric's "
                    "estimator (iqnas CalibrationRun.quality).")
        body += table(head, rows)
        body += self.add("quality", data, F.quality_figure(data),
                         "Each sample's out-of-fold prediction against its measured value.")
        return body

    # ---- samples --------------------------------------------------------------------------
    def samples_section(self) -> str:
        from iqnas.measured import feasible_rows

        run = self.run
        metrics = [m for m in (run.settings.get("metrics") or run.models)]
        smp = run.samples
        head = ["#", "round", "source",
                *[axis_label(m, self.unit(m)) for m in metrics]]
        feas = []
        for k, sc in enumerate(run.scenarios):
            if sc:
                head.append(f"meets budgets {k + 1}" if len(run.scenarios) > 1 else
                            "meets budgets")
                feas.append(feasible_rows(smp, sc))
        head.append("key")
        rows = []
        for i, r in enumerate(smp.itertuples(index=False)):
            d = r._asdict()
            rows.append([i + 1, d["round"], d["source"], *[d[m] for m in metrics],
                         *["yes" if f[i] else "no" for f in feas], d["key"]])
        return (note(f"{len(smp)} samples in measurement order; click a column to sort.")
                + table(head, rows, sortable=True, scroll=True, keys=(len(head) - 1,),
                        table_id="samples-table"))

    # ---- networks -------------------------------------------------------------------------
    def networks_section(self) -> str:
        run = self.run
        chosen = []  # (what, key, values text)
        for k, best in enumerate(run.best_per_scenario):
            label = scenario_label(run.scenarios[k], self.units)
            if best is None:
                chosen.append((f"best measured ({label})", None, "no measured network meets "
                               "these budgets"))
                continue
            vals = ", ".join(f"{m} {with_units(v, self.unit(m))}"
                             for m, v in best.measured.items())
            chosen.append((f"best measured ({label})", best.key, vals))
        sw = self.inp.sweep
        if sw is not None:
            front = sw.pareto_front()
            obj = sw.problem.objective
            for _, r in front.iterrows():
                vals = (f"predicted {obj.name or 'objective'} "
                        f"{with_units(r['objective'], obj.units)}")
                if "true_objective" in front.columns and np.isfinite(r["true_objective"]):
                    vals += (f", measured {sw.truth.objective_metric} "
                             f"{with_units(r['true_objective'], obj.units)}")
                    ok = r.get("true_feasible")
                    if ok is not None and ok == ok and not bool(ok):
                        vals += " (breaks a measured budget)"
                chosen.append((f"sweep front, {sw.resource} budget "
                               f"{with_units(r['budget'], self.unit(sw.resource))}", r["key"],
                               vals))
        rows = [(what, key or "", text) for what, key, text in chosen]
        body = table(("network", "key", "values"), rows, keys=(1,))
        cmds = []
        for i, (what, key, _) in enumerate(chosen):
            if key is None:
                continue
            cmd = ["iqnas", "export", "--space", run.space.name, "--arch", key, "--out",
                   f"networks/{i + 1}", "--store", str(run.store_path)]
            if self.inp.models_dir is not None:
                for m in run.models:
                    path = self.inp.models_dir / f"{m}.json"
                    if path.is_file():
                        cmd += ["--model", f"{m}={path}"]
            cmds.append(f"# {what}\n{shlex.join(cmd)}")
        if cmds:
            body += ("<h3>Export</h3>" + note("Each command writes the network as model.pt2 "
                                               "and arch.json (needs iqnas[torch]).")
                     + f"<pre>{esc(chr(10).join(cmds))}</pre>")
        return body


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**9 else f"{float(n):.3g}"


def _describe(est) -> str:
    from iqnas.plotdata.quality import describe_estimator

    return describe_estimator(est)


def _cell(v):
    if isinstance(v, (float, np.floating)) and not np.isfinite(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    return v


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "metric"


def write_figures(figures: list[Figure], folder: Path, fmt_: str = "png") -> list[Path]:
    """Each figure's data drawn with matplotlib as ``folder/<name>.<fmt_>``."""
    from iqnas.plots import draw

    folder.mkdir(parents=True, exist_ok=True)
    return [draw(f.data, folder / f"{f.name}.{fmt_}") for f in figures]


__all__ = ["SECTIONS", "Figure", "Report", "write_figures"]
