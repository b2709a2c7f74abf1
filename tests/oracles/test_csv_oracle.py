"""CsvOracle / read_measurements: users' measurement files, validated row by row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import iqnas
from iqnas import oracles
from iqnas.oracles.csv_oracle import read_measurements

SPACE = iqnas.spaces.get("nb201")
A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
B = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
C = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def write(tmp_path: Path, text: str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_round_trip_against_nb201(tmp_path: Path) -> None:
    nb = oracles.nb201()
    archs = SPACE.sample(7, n=40)
    lines = ["arch,acc,lat"]
    for a in archs:
        m = nb.measure(a)
        lines.append(f"{a.key},{m['test_acc_c100']!r},{m['help_lat_fpga']!r}")
    path = write(tmp_path, "\n".join(lines) + "\n")
    o = oracles.csv_oracle(path, "nb201", units={"lat": "ms"})
    keys = list(dict.fromkeys(a.key for a in archs))  # sampling may repeat; merged identically
    assert len(o) == len(keys) and o.keys() == keys
    assert o.metrics == ["acc", "lat"] and o.units == {"acc": "", "lat": "ms"}
    assert not o.exhaustive and isinstance(o, oracles.Oracle)
    for a in archs:
        assert o.measure(a) == {"acc": nb.measure(a)["test_acc_c100"],
                                "lat": nb.measure(a)["help_lat_fpga"]}
        assert a in o and a.key in o
    many = o.measure_many(archs)
    np.testing.assert_array_equal(many["lat"].to_numpy(), nb.values(archs, "help_lat_fpga"))
    assert list(many.index) == [a.key for a in archs]
    assert o.table().shape == (len(keys), 2)
    missing = next(a for a in SPACE.sample(8, n=200) if a.key not in set(keys))
    assert missing not in o
    with pytest.raises(iqnas.InputError, match="not measured"):
        o.measure(missing)


def test_lenient_but_exact_parsing(tmp_path: Path) -> None:
    text = (f"\ufefflat [ms] ,name,arch\n"
            f"1.5,first, {A} \n"
            f"\n"
            f"2,second,{B}\n"
            f"1.50,again,{A}\n")  # identical duplicate (1.50 == 1.5): merged
    path = write(tmp_path, text)
    o = oracles.csv_oracle(path, SPACE, metrics=["lat [ms]"])
    assert o.keys() == [A, B] and o.measure(B) == {"lat [ms]": 2.0}
    assert o.data.lines == [2, 4]
    with pytest.raises(iqnas.InputError, match=r"line 2, column 'name': 'first' is not a number"):
        oracles.csv_oracle(path, SPACE)


def test_custom_key_column_and_other_space(tmp_path: Path) -> None:
    mb = iqnas.spaces.get("mobilenet")
    archs = mb.sample(3, n=5)
    rows = "".join(f'{float(i)},"{a.key}"\n' for i, a in enumerate(archs))  # keys hold commas
    o = oracles.csv_oracle(write(tmp_path, "energy,cfg\n" + rows), "mobilenet",
                              key_column="cfg", units={"energy": "mJ"})
    assert [o.measure(a)["energy"] for a in archs] == [0.0, 1.0, 2.0, 3.0, 4.0]
    with pytest.raises(iqnas.InputError, match="no key column 'arch'"):
        oracles.csv_oracle(tmp_path / "m.csv", "mobilenet")


BAD = {
    "nan metric": (f"arch,acc,lat\n{A},70,3\n{B},nan,2\n", "line 3, column 'acc'", "finite"),
    "empty metric": (f"arch,acc,lat\n{A},70,\n", "line 2, column 'lat'", "empty value"),
    "text metric": (f"arch,acc,lat\n{A},70,fast\n", "line 2, column 'lat'", "not a number"),
    "unknown op": (f"arch,acc,lat\n{A},70,3\n{B.replace('avg_pool_3x3', 'max_pool_3x3')},1,2\n",
                   "line 3, column 'arch'", "unknown op 'max_pool_3x3'"),
    "wrong edge count": ("arch,acc,lat\n|none~0|+|none~0|+|none~0|none~1|none~2|,1,2\n",
                         "line 2, column 'arch'", "needs 2 edge"),
    "conflicting duplicate": (f"arch,acc,lat\n{A},70,3\n{C},1,1\n{A},70,4\n",
                              "line 4, column 'lat'", "repeats line 2"),
    "missing key column": (f"key,acc,lat\n{A},70,3\n", "line 1", "no key column 'arch'"),
    "wrong field count": (f"arch,acc,lat\n{A},70\n", "line 2", "expected 3 fields"),
    "empty key": ("arch,acc,lat\n,70,3\n", "line 2, column 'arch'", "empty architecture key"),
    "duplicate column": (f"arch,acc,acc\n{A},70,3\n", "line 1, column 'acc'", "duplicate"),
    "no rows": ("arch,acc\n", "m.csv", "no measurements"),
    "no metrics": (f"arch\n{A}\n", "line 1", "no metric columns"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_files_name_row_and_column(tmp_path: Path, case: str) -> None:
    text, where, what = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(iqnas.InputError) as info:
        oracles.csv_oracle(path, "nb201")
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and where in msg and what in msg, msg


def test_bad_arguments(tmp_path: Path) -> None:
    path = write(tmp_path, f"arch,acc\n{A},70\n")
    with pytest.raises(iqnas.InputError, match="not a metric"):
        oracles.csv_oracle(path, "nb201", units={"latency": "ms"})
    with pytest.raises(iqnas.InputError, match="unknown metric 'lat'"):
        read_measurements(path, "nb201", metrics=["lat"])
    with pytest.raises(iqnas.InputError, match="no such measurement file"):
        oracles.csv_oracle(tmp_path / "absent.csv", "nb201")
    with pytest.raises(iqnas.InputError, match="empty"):
        oracles.csv_oracle(write(tmp_path, "", "empty.csv"), "nb201")
