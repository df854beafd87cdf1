#!/usr/bin/python3
"""sharpflat's curvature against PyTorch in float64: loss, gradient norm and the top-k
Hessian eigenvalues of two networks on one data set, computed by `sharpflat hessian` (HVPs and
the Krylov–Schur Lanczos) and by PyTorch: for the small net (P = 916) autograd's full Hessian
and a dense eigendecomposition (numpy.linalg.eigvalsh); for the large one (P = 21 092, past
the 16 384 where sharpflat's basis work runs on every core) scipy's eigsh (ARPACK) on
autograd's Hessian-vector products, to tol 1e-14. Independent of sharpflat's code: the data
set, the weights and the networks are made here and handed over as files (CSVs and
safetensors files written by this script).

Run from the repository root with Debian's interpreter, PyTorch and SciPy
(apt-get install -y python3-torch python3-scipy):

    /usr/bin/python3 bench/reference_check.py [--sharpflat "go run ."]

It prints, for each configuration, the largest differences relative to |λ₁| (eigenvalues) or
to the value (loss, gradient norm), and exits 1 if any exceeds 1e-12 (the eigenvalues) or
1e-13 (loss and gradient norm).
"""

import argparse
import json
import os
import shlex
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

torch.set_default_dtype(torch.float64)

N, C, K = 400, 4, 8
NETS = {"small": (8, [24, 24]), "large": (64, [128, 96])}  # input width, hidden widths


def make_data(rng, D):
    x = rng.standard_normal((N, D))
    w = rng.standard_normal((D, C))
    labels = np.argmax(x @ w + 0.5 * rng.standard_normal((N, C)), axis=1)
    return x, labels


def write_csv(path, x, labels):
    D = x.shape[1]
    with open(path, "w") as f:
        f.write(",".join([f"x{i + 1}" for i in range(D)] + ["label"]) + "\n")
        for row, y in zip(x, labels):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(y)}\n")


def write_safetensors(path, tensors):
    """The safetensors layout (8-byte little-endian header length, JSON header, the tensors'
    bytes), float64 tensors named layers.{i}.weight / layers.{i}.bias as nn.Linear's."""
    names = sorted(tensors)
    header, offset, blobs = {}, 0, []
    for name in names:
        a = np.ascontiguousarray(tensors[name], dtype="<f8")
        b = a.tobytes()
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


ACTS = {"tanh": torch.tanh, "relu": torch.relu, "softplus": torch.nn.functional.softplus}


def loss_fn(params, x, labels, act, loss):
    h = x
    layers = len(params) // 2
    for i in range(layers):
        h = h @ params[2 * i].T + params[2 * i + 1]
        if i < layers - 1:
            h = ACTS[act](h)
    if loss == "ce":
        return torch.nn.functional.cross_entropy(h, labels)
    y = torch.nn.functional.one_hot(labels, C).to(h.dtype)
    return 0.5 * ((h - y) ** 2).sum(dim=1).mean()


def reference(params, x, labels, act, loss, dense):
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    flat = torch.cat([p.reshape(-1) for p in params]).detach()

    def f(theta):
        ps, at = [], 0
        for s, n in zip(shapes, sizes):
            ps.append(theta[at : at + n].reshape(s))
            at += n
        return loss_fn(ps, x, labels, act, loss)

    theta = flat.clone().requires_grad_(True)
    value = f(theta)
    (grad,) = torch.autograd.grad(value, theta, create_graph=True)
    if dense:
        hess = torch.autograd.functional.hessian(f, flat)
        eig = np.linalg.eigvalsh(hess.numpy())[::-1]
    else:
        def hvp(v):
            (hv,) = torch.autograd.grad(grad, theta, torch.from_numpy(np.ascontiguousarray(v).reshape(-1)), retain_graph=True)
            return hv.detach().numpy()

        op = LinearOperator((flat.numel(), flat.numel()), matvec=hvp, dtype=np.float64)
        eig = np.sort(eigsh(op, k=K, which="LA", tol=1e-14, v0=np.ones(flat.numel()))[0])[::-1]
    return float(value), float(grad.norm()), eig[:K]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sharpflat", default="go run .", help="command that runs sharpflat")
    args = ap.parse_args()
    rng = np.random.default_rng(20261206)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for net, (D, hidden) in NETS.items():
            x, labels = make_data(rng, D)
            widths = [D] + hidden + [C]
            tensors, params = {}, []
            for i in range(len(widths) - 1):
                w = rng.standard_normal((widths[i + 1], widths[i])) / np.sqrt(widths[i])
                b = 0.1 * rng.standard_normal(widths[i + 1])
                tensors[f"layers.{i}.weight"], tensors[f"layers.{i}.bias"] = w, b
                params += [torch.tensor(w), torch.tensor(b)]
            xt, lt = torch.tensor(x), torch.tensor(labels)
            csv, st = os.path.join(tmp, f"{net}.csv"), os.path.join(tmp, f"{net}.safetensors")
            write_csv(csv, x, labels)
            write_safetensors(st, tensors)
            for act, loss in [("tanh", "ce"), ("relu", "mse"), ("softplus", "ce"), ("tanh", "mse")]:
                cmd = shlex.split(args.sharpflat) + ["hessian", "--data", csv, "--weights", st, "--act", act, "--loss", loss,
                                                     "--k", str(K), "--hutch-samples", "0", "--tol", "1e-12", "--json"]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                sf = json.loads(out.strip().splitlines()[-1])
                value, gnorm, eig = reference(params, xt, lt, act, loss, dense=(net == "small"))
                lam = np.array(sf["eigenvalues"])
                d_eig = float(np.max(np.abs(lam - eig)) / abs(eig[0]))
                d_loss = abs(sf["loss"] - value) / abs(value)
                d_grad = abs(sf["grad_norm"] - gnorm) / abs(gnorm)
                print(f"{net} {act}/{loss}: P {sf['P']}, λ₁ {eig[0]:.15g} (sharpflat {lam[0]:.15g}); top-{K} eigenvalues "
                      f"differ by {d_eig:.2g}·|λ₁|, loss by {d_loss:.2g}, gradient norm by {d_grad:.2g} (relative)")
                worst = max(worst, d_eig / 1e-12, d_loss / 1e-13, d_grad / 1e-13)
    if worst > 1:
        print("FAIL: a difference exceeds its bound", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
