#!/usr/bin/python3
"""One step of Song, Ahn & Yun's MNIST protocol: sharpflat (pure Go, and -tags openblas)
against PyTorch + scipy's eigsh, interleaved, seconds a step and HVPs a refresh.

Run from the repository root with Debian's interpreter, PyTorch and SciPy, and OpenBLAS
underneath both (apt-get install -y python3-torch python3-scipy libopenblas-dev):

    /usr/bin/python3 bench/protocol_bench.py              # pure Go against PyTorch
    /usr/bin/python3 bench/protocol_bench.py --openblas   # and the -tags openblas build

The protocol (the song preset): the first 5000 MNIST training images (nn/mnistdata, pixels /
255), MLP 784-200-200-10 tanh, MSE ½‖f − y‖² summed over the outputs with one-hot targets
and averaged over the examples, float64, batch 50, η = 0.1, and before every step the top-10
eigenspace of the Hessian on all 5000 images. Both sides train `--warm` SGD steps (refreshing
every step, so the refresh reaches its steady state), then time `--steps` Bulk-SGD steps
(d = g − V Vᵀ g).

PyTorch's step: one double-backward graph of ∇L on the 5000 images a step, H v by
autograd.grad(∇L, θ, v, retain_graph=True), scipy.sparse.linalg.eigsh(k=10, which="LA",
tol=1e-6) started from the sum of the previous eigenvectors (Refine's warm start in sharpflat;
its block solver uses all ten), then the minibatch gradient and the projected update.
sharpflat's tolerance is 1e-6 relative to |λ₁| (`sharpflat bench --protocol`).

"Interleaved": the rounds alternate sharpflat, sharpflat + OpenBLAS and PyTorch, so that the
load of the machine falls on all of them alike; the table reports the median over rounds.
"""

import argparse
import gzip
import json
import os
import statistics
import struct
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see pytorch_bench.py

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.sparse.linalg import LinearOperator, eigsh  # noqa: E402

THREADS = 2
PROTOCOL_STEPS = 20000


def mnist5k(root):
    def idx(path):
        with gzip.open(path, "rb") as f:
            raw = f.read()
        ndim = raw[3]
        dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

    imgs = idx(os.path.join(root, "train-images-idx3-ubyte.gz"))[:5000]
    labels = idx(os.path.join(root, "train-labels-idx1-ubyte.gz"))[:5000]
    x = torch.tensor(imgs.reshape(len(imgs), -1), dtype=torch.float64) / 255.0
    y = torch.nn.functional.one_hot(torch.tensor(labels, dtype=torch.long), 10).to(torch.float64)
    return x, y


class MLP(torch.nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b, dtype=torch.float64) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.tanh(x)
        return x


def pytorch_protocol(x, y, warm, steps, lr=0.1, k=10, batch=50, tol=1e-6):
    torch.manual_seed(1)
    model = MLP([784, 200, 200, 10])
    params = list(model.parameters())
    P = sum(p.numel() for p in params)

    def loss_on(xb, yb):
        return 0.5 * ((model(xb) - yb) ** 2).sum(1).mean()

    def split(vec):
        out, o = [], 0
        for p in params:
            out.append(vec[o : o + p.numel()].view_as(p))
            o += p.numel()
        return out

    rng = np.random.default_rng(1)
    perm, pos = rng.permutation(len(x)), 0
    V = None
    hvps, refresh_s, step_s = [], [], []

    def step(bulk):
        nonlocal V, perm, pos
        t0 = time.perf_counter()
        g = torch.autograd.grad(loss_on(x, y), params, create_graph=True)
        count = [0]

        def mv(u):
            count[0] += 1
            hv = torch.autograd.grad(g, params, grad_outputs=split(torch.from_numpy(np.ascontiguousarray(u, dtype=np.float64))), retain_graph=True)
            return torch.cat([h.reshape(-1) for h in hv]).numpy()

        v0 = V.sum(axis=1) if V is not None else rng.standard_normal(P)
        vals, V = eigsh(LinearOperator((P, P), matvec=mv, dtype=np.float64), k=k, which="LA", tol=tol, v0=v0)
        t1 = time.perf_counter()
        if pos + batch > len(x):
            perm, pos = rng.permutation(len(x)), 0
        idx = torch.from_numpy(perm[pos : pos + batch])
        pos += batch
        gb = torch.autograd.grad(loss_on(x[idx], y[idx]), params)
        d = torch.cat([t.reshape(-1) for t in gb]).numpy()
        if bulk:
            d = d - V @ (V.T @ d)
        with torch.no_grad():
            for p, u in zip(params, split(torch.from_numpy(d))):
                p -= lr * u
        return count[0], t1 - t0, time.perf_counter() - t0, vals

    for _ in range(warm):
        step(False)
    for _ in range(steps):
        n, tr, ts, vals = step(True)
        hvps.append(n)
        refresh_s.append(tr)
        step_s.append(ts)
        top = float(np.max(vals))
    return {
        "sec_per_step": statistics.mean(step_s),
        "refresh_sec": statistics.mean(refresh_s),
        "hvps_per_refresh": statistics.mean(hvps),
        "hours_20k_steps": statistics.mean(step_s) * PROTOCOL_STEPS / 3600,
        "lambda1": top,
        "P": P,
    }


def run_go(cmd, env_extra):
    env = dict(os.environ)
    env.update(env_extra)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warm", type=int, default=50, help="SGD steps before the timed ones")
    ap.add_argument("--steps", type=int, default=10, help="Bulk-SGD steps timed")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    ap.add_argument("--openblas", action="store_true", help="also the -tags openblas build (OPENBLAS_NUM_THREADS=1)")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON")
    ap.add_argument("--bin", help="a sharpflat binary to time instead of building the tree's")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=PATH",
                    help="another sharpflat binary to time in the same rounds (e.g. a build from before a change); repeatable")
    args = ap.parse_args()
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)
    here = os.path.dirname(os.path.abspath(__file__))
    x, y = mnist5k(os.path.join(here, "..", "nn", "mnistdata"))

    gobin = os.path.join("/tmp", "sharpflat-protocol-bench")
    if args.bin:
        gobin = args.bin
    else:
        subprocess.run(["go", "build", "-o", gobin, "."], check=True)
    builds = [("sharpflat", gobin, {})]
    for also in args.also:
        name, _, path = also.partition("=")
        builds.append((name, path, {}))
    if args.openblas:
        subprocess.run(["go", "build", "-tags", "openblas", "-o", gobin + "-openblas", "."], check=True)
        builds.append(("sharpflat+OpenBLAS", gobin + "-openblas", {"OPENBLAS_NUM_THREADS": "1"}))
    results = {name: [] for name, _, _ in builds}
    results["PyTorch+eigsh"] = []
    for r in range(args.rounds):
        for name, binary, env in builds:
            env = dict(env, GOMAXPROCS=str(THREADS))
            results[name].append(run_go([binary, "bench", "--protocol", "--json", "--warm", str(args.warm), "--steps", str(args.steps)], env))
        results["PyTorch+eigsh"].append(pytorch_protocol(x, y, args.warm, args.steps))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    if args.json:
        print(json.dumps(results, indent=2))
        return
    med = {name: {key: statistics.median(run[key] for run in runs) for key in ("sec_per_step", "refresh_sec", "hvps_per_refresh", "hours_20k_steps")}
           for name, runs in results.items()}
    pt = med["PyTorch+eigsh"]["sec_per_step"]
    print(f"Song et al.'s MNIST protocol step, {args.warm} SGD steps then {args.steps} Bulk-SGD steps timed, median of {args.rounds} interleaved rounds, "
          f"{THREADS} threads, PyTorch {torch.__version__}")
    print("| | s a step | refresh s | HVPs a refresh | 20 000 steps | ÷ PyTorch + eigsh |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, m in med.items():
        print(f"| {name} | {m['sec_per_step']:.3f} | {m['refresh_sec']:.3f} | {m['hvps_per_refresh']:.1f} | {m['hours_20k_steps']:.1f} h | {m['sec_per_step'] / pt:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
