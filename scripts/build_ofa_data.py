"""Build the OFA MobileNetV3 data shipped under iqnas/data (run offline by developers).

Inputs (han-cai/files@a7c9bcd, copied to /work/shared/nas-data/ofa/han-cai-files):
  ofa/acc_predictor.pth            OFA's released accuracy predictor (torch state_dict)
  note10/{160..224}_lookup_table.yaml   OFA's Note10 latency lookup tables

Outputs:
  iqnas/data/ofa_acc_predictor.npz  w0..w3, b0..b3 (float32, the exact stored values)
  iqnas/data/ofa_note10_lut.json    {"tables": {res: {layer key: mean ms}}} plus provenance

The inputs are checked against their known sha256 before anything is loaded. Then the numpy
oracle is checked against torch on random architectures and the library's latency walk against an
independent walk over the raw YAML tables, and reference values used as literals in
tests/oracles/test_ofa.py are printed. These checks run on the library's files under
iqnas/data; with ``--out`` elsewhere, ``--check`` fails unless the fresh build is byte-identical
to them (the build is reproducible).

    .venv/bin/python scripts/build_ofa_data.py [--src DIR] [--out DIR] [--n 500] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "iqnas" / "data"
OUTPUTS = ("ofa_acc_predictor.npz", "ofa_note10_lut.json")
DEFAULT_SRC = Path("/work/shared/nas-data/ofa/han-cai-files")
UPSTREAM = "han-cai/files@a7c9bcd"
RESOLUTIONS = (160, 176, 192, 208, 224)
#: sha256 of the upstream files, relative to --src (as listed in nas-data's SHA256SUMS)
SOURCE_SHA256 = {
    "acc_predictor.pth": "48685122a3540636b06699af66cd816456b25f29b69563e2fda9bed4018eeba0",
    "note10/160_lookup_table.yaml":
        "a2671a45e9400542679ed03de946b45d6a35010f9ab21834af3e7ba8341d36d1",
    "note10/176_lookup_table.yaml":
        "34223ae037d5719a5f33261bdfd9341f590a2999edf520f174309605dc06307c",
    "note10/192_lookup_table.yaml":
        "0ff5ca0649e56ad34a42d6a8a6f20adb5121c8d12d135299397b310472db79e2",
    "note10/208_lookup_table.yaml":
        "41aa63af766a8298354e6aa5ae69d512ac68656a6e7d0a4fa5dc725c8d438633",
    "note10/224_lookup_table.yaml":
        "c13a9bcb3f4becae844bce4897129c4e42975984c1029cbd5acb48c970136530",
}
EXPECTED_SHAPES = {"0.weight": (400, 128), "0.bias": (400,), "2.weight": (400, 400),
                   "2.bias": (400,), "4.weight": (400, 400), "4.bias": (400,),
                   "6.weight": (1, 400), "6.bias": (1,)}
REFERENCE_KEYS = (
    "r160|s1:k3e3,k3e3|s2:k3e3,k3e3|s3:k3e3,k3e3|s4:k3e3,k3e3|s5:k3e3,k3e3",
    "r224|s1:k7e6,k7e6,k7e6,k7e6|s2:k7e6,k7e6,k7e6,k7e6|s3:k7e6,k7e6,k7e6,k7e6"
    "|s4:k7e6,k7e6,k7e6,k7e6|s5:k7e6,k7e6,k7e6,k7e6",
    "r192|s1:k5e4,k3e6,k7e3|s2:k3e3,k5e6|s3:k7e4,k7e6,k3e3,k5e4|s4:k5e3,k3e4,k7e6"
    "|s5:k3e6,k5e6,k7e4,k3e3",
    "r176|s1:k5e4,k3e6|s2:k7e3,k3e3,k5e6|s3:k3e4,k7e4|s4:k3e3,k5e3,k3e6,k7e6|s5:k5e6,k3e4,k7e3",
)
log = logging.getLogger("build_ofa_data")


def check_sources(src: Path) -> None:
    """Stop unless every input file is the known upstream file (checked before any load)."""
    for rel, want in SOURCE_SHA256.items():
        path = src / rel
        if not path.is_file():
            raise SystemExit(f"missing input {path}")
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != want:
            raise SystemExit(f"{path}: sha256 {got} is not the known upstream file ({want})")


def same_as_shipped(out: Path) -> list[str]:
    """Names of the outputs in ``out`` whose bytes differ from the files under iqnas/data."""
    return [name for name in OUTPUTS
            if (out / name).read_bytes() != (DATA_DIR / name).read_bytes()]


def parse_lut_yaml(path: Path) -> dict[str, float]:
    """OFA's LUT YAML (``key:`` then indented ``count/mean/std``) -> {key: mean}."""
    out: dict[str, float] = {}
    key = None
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        if not line.startswith(" "):
            if not line.endswith(":"):
                raise ValueError(f"{path}:{n}: expected 'layer-key:', got {line!r}")
            key = line[:-1]
            if key in out:
                raise ValueError(f"{path}:{n}: duplicate key {key!r}")
            continue
        field, _, value = line.strip().partition(": ")
        if key is None or field not in ("count", "mean", "std", "var"):
            raise ValueError(f"{path}:{n}: unexpected line {line!r}")
        if field == "mean":
            out[key] = float(value)
    return out


def extract_predictor(src: Path, out: Path) -> dict[str, np.ndarray]:
    import torch

    sd = torch.load(src / "acc_predictor.pth", map_location="cpu", weights_only=True)
    shapes = {k: tuple(v.shape) for k, v in sd.items()}
    if shapes != EXPECTED_SHAPES:
        raise SystemExit(f"unexpected predictor layout {shapes}")
    arrays = {}
    for i, layer in enumerate(("0", "2", "4", "6")):
        arrays[f"w{i}"] = sd[f"{layer}.weight"].numpy().astype(np.float32)
        arrays[f"b{i}"] = sd[f"{layer}.bias"].numpy().astype(np.float32)
    np.savez_compressed(out / "ofa_acc_predictor.npz", **arrays)
    log.info("predictor: %s (no base_acc entry: the output is used as is)", shapes)
    return sd


def write_lut(src: Path, out: Path) -> dict[int, dict[str, float]]:
    tables = {r: parse_lut_yaml(src / "note10" / f"{r}_lookup_table.yaml") for r in RESOLUTIONS}
    doc = {
        "description": "OFA Note10 latency lookup tables: mean latency (ms) per layer, keyed by "
                       "OFA's LatencyEstimator.query descriptor",
        "source": f"{UPSTREAM} note10/<res>_lookup_table.yaml",
        "units": "ms",
        "tables": {str(r): dict(sorted(t.items())) for r, t in tables.items()},
    }
    (out / "ofa_note10_lut.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    return tables


def ofa_walk_latency(table: dict[str, float], spec: dict) -> float:
    """Independent re-statement of OFA's predict_network_latency_given_spec on a raw table."""
    r = spec["r"][0]
    f = (r + 1) // 2
    total = table[f"Conv-input:{r}x{r}x3-output:{f}x{f}x24"]
    total += table[f"expanded_conv-input:{f}x{f}x24-output:{f}x{f}x24-expand:24-kernel:3-"
                   "stride:1-idskip:1-se:0-hs:0"]
    c_in = 24
    for i in range(20):
        s = i // 4
        if i % 4 + 1 > spec["d"][s]:
            continue
        stride = (2, 2, 2, 1, 2)[s] if i % 4 == 0 else 1
        c_out = (32, 48, 96, 136, 192)[s]
        g = (f - 1) // stride + 1
        total += table[f"expanded_conv-input:{f}x{f}x{c_in}-output:{g}x{g}x{c_out}"
                       f"-expand:{round(c_in * spec['e'][i])}-kernel:{spec['ks'][i]}"
                       f"-stride:{stride}-idskip:{int(i % 4 != 0)}-se:{(0, 1, 0, 1, 1)[s]}"
                       f"-hs:{(0, 0, 1, 1, 1)[s]}"]
        f, c_in = g, c_out
    total += table[f"Conv_1-input:{f}x{f}x192-output:{f}x{f}x1152"]
    total += table[f"AvgPool2D-input:{f}x{f}x1152-output:1x1x1152"]
    total += table["Conv_2-input:1x1x1152-output:1x1x1536"]
    total += table["Logits-input:1x1x1536-output:1000"]
    return total


def torch_reference(sd, X: np.ndarray) -> np.ndarray:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(128, 400), torch.nn.ReLU(),
                                torch.nn.Linear(400, 400), torch.nn.ReLU(),
                                torch.nn.Linear(400, 400), torch.nn.ReLU(),
                                torch.nn.Linear(400, 1))
    model.load_state_dict(sd)
    with torch.no_grad():
        return model(torch.tensor(X, dtype=torch.float32)).numpy()[:, 0].astype(np.float64)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    ap.add_argument("--n", type=int, default=500, help="random architectures to verify")
    ap.add_argument("--check", action="store_true",
                    help="fail unless the build is byte-identical to the files under iqnas/data")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    check_sources(args.src)
    sd = extract_predictor(args.src, args.out)
    tables = write_lut(args.src, args.out)
    if args.out.resolve() != DATA_DIR.resolve():
        differ = same_as_shipped(args.out)
        log.info("fresh build vs iqnas/data: %s", f"differs in {differ}" if differ else
                 "byte-identical")
        if differ and args.check:
            raise SystemExit(f"the build differs from the shipped files: {differ}")

    # import after writing so the library reads the fresh files
    sys.path.insert(0, str(ROOT))
    import importlib

    from iqnas.spaces import ofa as ofa_space

    bench = importlib.import_module("iqnas.oracles.ofa")

    for cached in (bench.load_predictor, bench.load_lut, bench.latency_tables):
        cached.cache_clear()
    oracle = bench.ofa()
    space = oracle.space

    # every LUT entry is a layer of the OFA network at that resolution, and vice versa
    for r, table in tables.items():
        fixed, blocks = bench.network_layers(r)
        used = set(fixed) | {k for grid in blocks for row in grid for k in row}
        if used != set(table):
            raise SystemExit(f"LUT {r}: {len(set(table) - used)} unused and "
                             f"{len(used - set(table))} missing layer keys")
    log.info("LUT: every table has exactly the %d layer keys the network walk uses",
             len(tables[224]))

    C = space.sample_choices(np.random.default_rng(0), args.n)
    X = oracle.predictor_features(C)
    acc_np = bench.predictor_output(X)
    acc_torch = torch_reference(sd, X)
    diff = float(np.abs(acc_np - acc_torch).max())
    log.info("predictor numpy vs torch on %d random archs: max |diff| = %.3g (raw output)",
             args.n, diff)
    if diff >= 1e-5:
        raise SystemExit("numpy predictor disagrees with torch")

    lat = oracle.latency_choices(C)
    walk = np.array([ofa_walk_latency(tables[int(space.groups[-1].options[row[-1]])],
                                      ofa_space.to_ofa_spec(space.arch(row))) for row in C])
    ldiff = float(np.abs(lat - walk).max())
    log.info("latency oracle vs independent OFA walk: max |diff| = %.3g ms", ldiff)
    if ldiff >= 1e-9:
        raise SystemExit("latency oracle disagrees with the OFA walk")

    for r in RESOLUTIONS:
        form = bench.ofa_latency_form(r)
        Cr = C.copy()
        Cr[:, -1] = ofa_space.RESOLUTIONS.index(str(r))
        fdiff = float(np.abs(form.evaluate(choices=Cr) - oracle.latency_choices(Cr)).max())
        log.info("latency form at %d: max |form - oracle| = %.3g ms, %d pairwise terms", r,
                 fdiff, form.pairwise.nnz)
        if fdiff >= 1e-9:
            raise SystemExit(f"latency form at {r} disagrees with the oracle")

    log.info("reference values (torch, acc in percent; latency in ms):")
    for key in REFERENCE_KEYS:
        x = oracle.predictor_features(np.asarray([space.parse_key(key).choices]))
        log.info("  %r: acc %.9f, lat %.9f", key, 100 * torch_reference(sd, x)[0],
                 oracle.measure(key)[bench.LAT])
    for path in sorted(args.out.glob("ofa_*")):
        log.info("%s: %d bytes", path, path.stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
