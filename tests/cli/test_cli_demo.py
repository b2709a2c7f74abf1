"""``iqnas demo``: every reported network is truly feasible and compared with the true optimum."""

from __future__ import annotations

import json

import numpy as np

import iqnas
from iqnas.cli import main
from iqnas.cli.demo_cmd import OBJECTIVE, PARAMS, scenarios


def test_demo_json_against_the_table(capsys, tmp_path):
    code = main(["demo", "--samples", "60", "--seed", "1", "--store", str(tmp_path / "d.db"),
                 "--format", "json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    table = iqnas.oracles.nb201("cifar100").table()
    scens = scenarios(table)
    assert len(out["scenarios"]) == len(scens) == 3
    assert out["n_measured"] <= 200
    for scen, row in zip(scens, out["scenarios"]):
        ok = np.ones(len(table), dtype=bool)
        for metric, budget in scen.items():
            ok &= table[metric].to_numpy() <= budget
        optimum = table.loc[ok, OBJECTIVE].max()
        assert row["optimum"] == optimum
        assert table.loc[row["optimum_key"], OBJECTIVE] == optimum
        for net in (row["answer"], row["iqp"]):
            true = table.loc[net["key"]]
            assert net["true"] == true[OBJECTIVE] and net["params"] == true[PARAMS]
        answer = table.loc[row["answer"]["key"]]
        for metric, budget in scen.items():          # the reported answer is truly feasible
            assert answer[metric] <= budget
        assert row["answer"]["true"] >= row["iqp"]["true"] or not row["iqp_truly_feasible"]
        assert row["regret"] == optimum - row["answer"]["true"] >= 0
    assert np.mean([r["regret"] for r in out["scenarios"]]) < 2.0
