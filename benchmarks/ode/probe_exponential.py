"""Would an exponential integrator need fewer right-hand sides for full trajectories?

Usage: python benchmarks/ode/probe_exponential.py [--items 3] [--out probe_exponential.json]

An experiment behind one sentence of benchmarks/ode/README.md, not a solver of the library.
On the digits 64-100-10 network of ``bench_ode.py`` (same training, eps = 1e-3), each of the
first ``--items`` inputs is integrated to t = 400 at rtol 1e-6 / atol 1e-12 by

* the exponential Rosenbrock method exprb32 (Hochbruck, Ostermann & Schweitzer 2009,
  order 3 with an order-2 embedded solution), with *exact* matrix functions: phi_1 and
  phi_3 of the dense Jacobian from ``scipy.linalg.expm`` of the augmented matrix. This is
  the most favourable case for that family: its linear part is integrated exactly, so only
  the nonlinearity limits the step;
* ``TorchODE(rtol=1e-6)`` (Rodas4) on that input alone;
* ``ScipyODE(rtol=1e-6)`` (SciPy BDF with the analytic Jacobian).

It prints right-hand-side (+ Jacobian) evaluations per item and the exprb32 error against
Radau at rtol 1e-11 (relative to each species' largest value).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_ode import EPS, _digits, _train

HERE = Path(__file__).resolve().parent
T_END, RTOL, ATOL = 400.0, 1e-6, 1e-12


def _phi_actions(a: np.ndarray, v1: np.ndarray, v3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``phi_1(a) v1`` and ``phi_3(a) v3`` from the exponential of augmented matrices."""
    from scipy.linalg import expm

    n = a.shape[0]
    m1 = np.zeros((n + 1, n + 1))
    m1[:n, :n], m1[:n, n] = a, v1
    m3 = np.zeros((n + 3, n + 3))
    m3[:n, :n], m3[:n, n] = a, v3
    m3[n, n + 1] = m3[n + 1, n + 2] = 1.0
    return expm(m1)[:n, n], expm(m3)[:n, n + 2]


def exprb32(f, jac, y0: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Accepted times, states, accepted steps and evaluations (RHS and Jacobian) to ``T_END``."""
    t, y, h = 0.0, y0.copy(), 1e-3
    fy, evals, steps = f(y), 1, 0
    times, states = [0.0], [y.copy()]
    while t < T_END:
        h = min(h, T_END - t)
        j = jac(y)
        evals += 1
        p1, _ = _phi_actions(h * j, fy, fy)
        u = y + h * p1
        d = f(u) - fy - j @ (u - y)
        evals += 1
        _, p3 = _phi_actions(h * j, fy, d)
        corr = 2.0 * h * p3
        y1 = u + corr
        weight = ATOL + RTOL * np.maximum(np.abs(y), np.abs(y1))
        err = float(np.sqrt(np.mean((corr / weight) ** 2)))
        if err <= 1.0 and np.isfinite(y1).all():
            t, y = t + h, y1
            fy = f(y)
            evals += 1
            steps += 1
            times.append(t)
            states.append(y.copy())
        h *= min(5.0, max(0.2, 0.9 * err ** (-1.0 / 3.0))) if err > 0 else 5.0
    return np.array(times), np.array(states), steps, evals


def main() -> None:
    import torch
    from scipy.integrate import solve_ivp

    from nncrn.compile import SmoothReLUScheme, compile_network
    from nncrn.network import initial_state
    from nncrn.simulate import ScipyODE, TorchODE, integrate
    from nncrn.simulate._structure import MassActionStructure

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=3)
    p.add_argument("--out", type=Path, default=HERE / "probe_exponential.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    x, labels = _digits()
    model = _train(x, labels, [64, 100, 10])
    net = compile_network(model, scheme=SmoothReLUScheme(eps=EPS), input_range=(0.0, 1.0))
    s = MassActionStructure.build(net)
    rows = []
    for i in range(args.items):
        y_full = initial_state(net, x[i : i + 1])[0]
        g = s.coefficients(y_full)
        y0 = y_full[s.dynamic]

        def f(y, g=g):
            return s.rhs(g, y)

        def jac(y, g=g):
            return s.jacobian(g, y).toarray()

        times, states, steps, evals = exprb32(f, jac, y0)
        ref = solve_ivp(lambda t, y, f=f: f(y), (0.0, T_END), y0, method="Radau", rtol=1e-11,
                        atol=1e-15, jac=lambda t, y, jac=jac: jac(y), t_eval=times).y.T  # fmt: skip
        scale = np.maximum(np.abs(ref).max(axis=0), 1e-12)
        t_eval = [0.0, T_END]
        rodas = integrate(net, x[i : i + 1], t_eval, solver=TorchODE(rtol=RTOL, atol=ATOL))
        bdf = integrate(net, x[i : i + 1], t_eval, solver=ScipyODE(rtol=RTOL, atol=ATOL))
        rows.append({
            "item": i, "exprb32_steps": steps, "exprb32_evals": evals,
            "exprb32_max_rel_err": float((np.abs(states - ref) / scale).max()),
            "rodas4_steps": int(rodas.n_steps[0]), "rodas4_evals": rodas.n_rhs,
            "scipy_bdf_evals": bdf.n_rhs,
        })  # fmt: skip
        print(rows[-1], flush=True)
    args.out.write_text(json.dumps({"rtol": RTOL, "atol": ATOL, "t_end": T_END, "rows": rows},
                                   indent=1))  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
