#!/usr/bin/python3
"""sharpflat against PyTorch on the CPU: gradient, Hessian-vector product, Lanczos top-10.

Run from the repository root with Debian's interpreter and python3-torch
(apt-get install -y python3-torch python3-scipy):

    /usr/bin/python3 bench/pytorch_bench.py            # also runs `go run . bench --json`
    /usr/bin/python3 bench/pytorch_bench.py --openblas # and the -tags openblas build

Same networks and batch shapes as `sharpflat bench`: the demo net 20-16-16-10 tanh with
softmax cross-entropy on 1000 examples of a 10-class Gaussian mixture (D = 20, class means
N(0, I), unit noise), and 784-128-128-10 tanh CE on 1024 MNIST images (the subset embedded in
nn/mnistdata, pixels / 255). float64, nn.Linear's default initialisation, the same number of
threads as sharpflat (2: torch.set_num_threads), medians of several runs after a warm-up.

- gradient: forward + backward (torch.autograd.grad of the mean loss).
- HVP: one double-backward product H v with the graph of ∇L kept (create_graph once, then
  autograd.grad(∇L, θ, v, retain_graph=True) per product) — the counterpart of sharpflat's
  bound operator, which caches the forward and backward passes. "HVP from scratch" adds the
  forward and the first backward.
- Lanczos top-10: Lanczos with full reorthogonalisation (classical Gram–Schmidt, twice),
  Ritz values from the tridiagonal (numpy.linalg.eigh), run for exactly as many products as
  sharpflat's Lanczos used (its JSON reports lanczos_hvps), so both do the same work; and
  scipy.sparse.linalg.eigsh (ARPACK, tol 1e-8) on a LinearOperator, with its own count.

Data values differ from sharpflat's (same distributions and shapes): the costs do not depend on
them, except the number of Lanczos products, which is why the same count is forced.
"""

import argparse
import datetime
import gzip
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import time

# OpenMP threads that spin while waiting collapse when other processes share the two cores:
# a demo-net gradient took 44 ms with 2 spinning threads against 0.56 ms with passive waiting,
# measured on this machine with other jobs running. Passive waiting is PyTorch's best case here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

THREADS = 2


def median_ms(fn, runs):
    fn()  # warm-up
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def gaussian_mixture(n, d=20, classes=10, seed=1):
    g = torch.Generator().manual_seed(seed)
    means = torch.randn(classes, d, generator=g, dtype=torch.float64)
    y = torch.arange(n) % classes
    x = means[y] + torch.randn(n, d, generator=g, dtype=torch.float64)
    return x, y


def mnist(n, root):
    def idx(path):
        with gzip.open(path, "rb") as f:
            raw = f.read()
        ndim = raw[3]
        dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

    imgs = idx(os.path.join(root, "train-images-idx3-ubyte.gz"))[:n]
    labels = idx(os.path.join(root, "train-labels-idx1-ubyte.gz"))[:n]
    x = torch.tensor(imgs.reshape(len(imgs), -1), dtype=torch.float64) / 255.0
    return x, torch.tensor(labels, dtype=torch.long)


class MLP(torch.nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b, dtype=torch.float64) for a, b in zip(widths[:-1], widths[1:])
        )

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.tanh(x)
        return x


def bench_net(widths, x, y, runs, lanczos_steps, k=10):
    torch.manual_seed(1)
    model = MLP(widths)
    params = list(model.parameters())
    P = sum(p.numel() for p in params)
    loss_fn = torch.nn.CrossEntropyLoss()

    def grad():
        loss = loss_fn(model(x), y)
        return torch.autograd.grad(loss, params)

    v = torch.tensor([float(i % 7) - 3 for i in range(P)], dtype=torch.float64)

    def split(vec):
        out, o = [], 0
        for p in params:
            out.append(vec[o : o + p.numel()].view_as(p))
            o += p.numel()
        return out

    loss = loss_fn(model(x), y)
    g = torch.autograd.grad(loss, params, create_graph=True)

    def hvp(vec):
        hv = torch.autograd.grad(g, params, grad_outputs=split(vec), retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv])

    def hvp_scratch():
        loss = loss_fn(model(x), y)
        gg = torch.autograd.grad(loss, params, create_graph=True)
        dot = sum((a * b).sum() for a, b in zip(gg, split(v)))
        return torch.autograd.grad(dot, params)

    def lanczos(m):
        rng = np.random.default_rng(1)
        q = torch.tensor(rng.standard_normal(P), dtype=torch.float64)
        q /= q.norm()
        Q = torch.zeros(m, P, dtype=torch.float64)
        alpha, beta = np.zeros(m), np.zeros(m)
        for j in range(m):
            Q[j] = q
            w = hvp(q)
            alpha[j] = float(w @ q)
            # full reorthogonalisation, twice (classical Gram–Schmidt)
            for _ in range(2):
                w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
            beta[j] = float(w.norm())
            if beta[j] < 1e-12:
                m = j + 1
                break
            q = w / beta[j]
        T = np.diag(alpha[:m]) + np.diag(beta[: m - 1], 1) + np.diag(beta[: m - 1], -1)
        return np.sort(np.linalg.eigvalsh(T))[::-1][:k]

    r = {"P": P, "batch": len(x)}
    r["grad_ms"] = median_ms(grad, runs)
    r["hvp_ms"] = median_ms(lambda: hvp(v), runs)
    r["hvp_scratch_ms"] = median_ms(hvp_scratch, runs)
    r["lanczos_steps"] = lanczos_steps
    r["lanczos_ms"] = median_ms(lambda: lanczos(lanczos_steps), max(1, runs // 3))
    r["lanczos_top"] = [float(t) for t in lanczos(lanczos_steps)[:3]]
    try:
        from scipy.sparse.linalg import LinearOperator, eigsh

        count = [0]

        def mv(u):
            count[0] += 1
            return hvp(torch.from_numpy(np.ascontiguousarray(u, dtype=np.float64)).reshape(-1)).numpy()

        op = LinearOperator((P, P), matvec=mv, dtype=np.float64)

        def arpack():
            count[0] = 0
            return eigsh(op, k=k, which="LA", tol=1e-8, v0=np.ones(P))

        r["eigsh_ms"] = median_ms(arpack, max(1, runs // 3))
        r["eigsh_hvps"] = count[0]
    except ImportError:
        pass
    return r


def run_go(cmd, env_extra):
    env = dict(os.environ)
    env.update(env_extra)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    res = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            d = json.loads(line)
            res[d["net"].split()[0]] = d
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="timed runs per measurement (median)")
    ap.add_argument("--openblas", action="store_true", help="also time `go run -tags openblas . bench --json` (OPENBLAS_NUM_THREADS=1)")
    ap.add_argument("--sharpflat", default="go run . bench", help="command printing sharpflat's bench JSON (without --json)")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = ap.parse_args()

    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)

    go_cmd = args.sharpflat.split() + ["--json", "--runs", str(args.runs)]
    sf = run_go(go_cmd, {"GOMAXPROCS": str(THREADS)})
    sfb = None
    if args.openblas:
        cmd = args.sharpflat.split()
        if cmd[:2] == ["go", "run"]:
            cmd = cmd[:2] + ["-tags", "openblas"] + cmd[2:]
        sfb = run_go(cmd + ["--json", "--runs", str(args.runs)], {"GOMAXPROCS": str(THREADS), "OPENBLAS_NUM_THREADS": "1"})

    here = os.path.dirname(os.path.abspath(__file__))
    nets = {
        "demo": ([20, 16, 16, 10], gaussian_mixture(1000)),
        "mnist": ([784, 128, 128, 10], mnist(1024, os.path.join(here, "..", "nn", "mnistdata"))),
    }
    pt = {}
    for name, (widths, (x, y)) in nets.items():
        pt[name] = bench_net(widths, x, y, args.runs, sf[name]["lanczos_hvps"])

    if args.json:
        print(json.dumps({"sharpflat": sf, "sharpflat_openblas": sfb, "pytorch": pt}, indent=2))
        return

    print(f"sharpflat vs PyTorch {torch.__version__} (CPU, float64, {THREADS} threads, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}), median of {args.runs} runs, "
          f"{datetime.date.today()}, {platform.processor() or platform.machine()}")
    head = ["net", "operation", "sharpflat ms"] + (["sharpflat+OpenBLAS ms"] if sfb else []) + ["PyTorch ms", "ratio sf/PT"] + (["ratio sf+OB/PT"] if sfb else [])
    rows = []
    for name in nets:
        s, p = sf[name], pt[name]
        b = sfb[name] if sfb else None
        ops = [
            ("gradient", "grad_ms", "grad_ms"),
            ("HVP (graph/passes cached)", "hvp_ms", "hvp_ms"),
            ("HVP from scratch", None, "hvp_scratch_ms"),
            (f"Lanczos top-10, {s['lanczos_hvps']} HVPs", "lanczos_ms", "lanczos_ms"),
        ]
        for label, sk, pk in ops:
            if sk is None:
                # sharpflat: bind (forward + backward) then one product
                sv = s["grad_ms"] + s["hvp_ms"]
                bv = b["grad_ms"] + b["hvp_ms"] if b else None
            else:
                sv, bv = s[sk], (b[sk] if b else None)
            row = [f"{name} P={s['P']}", label, f"{sv:.3f}"] + ([f"{bv:.3f}"] if b else []) + [f"{p[pk]:.3f}", f"{sv / p[pk]:.2f}"] + ([f"{bv / p[pk]:.2f}"] if b else [])
            rows.append(row)
        if "eigsh_ms" in p:
            rows.append([f"{name} P={s['P']}", f"(PyTorch + scipy eigsh top-10, tol 1e-8: {p['eigsh_hvps']} HVPs)", "", *([""] if b else []), f"{p['eigsh_ms']:.1f}", "", *([""] if b else [])])
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    for name in nets:
        print(f"{name}: PyTorch Lanczos top-3 {', '.join(f'{t:.4f}' for t in pt[name]['lanczos_top'])}")


if __name__ == "__main__":
    sys.exit(main())
