"""Koopman-accelerated training loops against the plain optimizer: digits MLP, chemical fit."""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn import datasets
from sklearn.model_selection import train_test_split

from nncrn.compile import compile_network
from nncrn.data import build_mlp
from nncrn.simulate import fixed_point
from nncrn.train import Koopman, fit, koopman_train


def load(name: str, seed: int = 0):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    low, span = Xtr.min(0), np.ptp(Xtr, 0)
    span[span == 0] = 1.0
    return (Xtr - low) / span, ytr, np.clip((Xte - low) / span, 0.0, None), yte


def reach(loss: np.ndarray, evals: np.ndarray, target: float) -> int | None:
    """Index of the first entry of ``loss`` at or below ``target`` (None: never)."""
    hit = np.flatnonzero(loss <= target)
    return int(hit[0]) if hit.size else None


def mlp(seeds: int, steps: int, koopman: dict[str, Koopman], hidden: int = 32,
        lr: float = 1e-2) -> dict:  # fmt: skip
    """Full-batch Adam on a digits MLP, plain and with each Koopman setting."""
    Xtr, ytr, Xte, yte = load("digits")
    Xt, yt, Xv, yv = (torch.from_numpy(a) for a in (Xtr, ytr, Xte, yte))
    out: dict = {"steps": steps, "hidden": hidden, "lr": lr, "runs": {}}
    for name in ("plain", *koopman):
        runs = []
        for seed in range(seeds):
            model = build_mlp((64, hidden, 10), seed=seed)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            stamps: list[float] = []

            def step(model=model, opt=opt, stamps=stamps) -> float:
                opt.zero_grad()
                value = torch.nn.functional.cross_entropy(model(Xt), yt)
                value.backward()
                opt.step()
                stamps.append(time.perf_counter())
                return float(value.detach())

            def evaluate(model=model) -> float:
                with torch.no_grad():
                    return float(torch.nn.functional.cross_entropy(model(Xt), yt))

            tic = time.perf_counter()
            if name == "plain":
                loss = np.array([step() for _ in range(steps)])
                jumps: tuple = ()
            else:
                hist = koopman_train(model, step, evaluate, steps=steps, koopman=koopman[name])
                loss, jumps = hist.step_loss, hist.jumps
            total = time.perf_counter() - tic
            final = evaluate()
            jump_steps = np.array([j.step for j in jumps], dtype=int)
            # evaluations after each step: steps so far plus 2 per jump so far
            evals = np.arange(1, steps + 1) + 2 * np.searchsorted(jump_steps, np.arange(1, steps + 1), "right")
            with torch.no_grad():
                acc = float((model(Xv).argmax(1) == yv).double().mean())
            runs.append({"loss": loss.tolist(), "evals": evals.tolist(),
                         "seconds": (np.array(stamps) - tic).tolist(), "final_loss": final,
                         "total_seconds": total,
                         "test_accuracy": acc, "jumps": len(jumps),
                         "accepted": sum(j.accepted for j in jumps),
                         "jump_seconds": float(sum(j.seconds for j in jumps)),
                         "max_abs_eig": [j.max_abs_eig for j in jumps]})  # fmt: skip
        out["runs"][name] = runs
    _compare(out, steps)
    return out


def _compare(out: dict, steps: int) -> None:
    """Per seed: evaluations and seconds each accelerated run needs to reach plain's final loss.

    A run reaches it at the first step whose loss is at or below it, or, failing that, with
    its last jump (its final loss, after all of its steps and evaluations).
    """
    plain = out["runs"]["plain"]
    out["summary"] = {}
    for name, runs in out["runs"].items():
        if name == "plain":
            continue
        rows = []
        for p, r in zip(plain, runs, strict=True):
            i = reach(np.array(r["loss"]), np.array(r["evals"]), p["final_loss"])
            if i is not None:
                evals, seconds = r["evals"][i], r["seconds"][i]
            elif r["final_loss"] <= p["final_loss"]:
                evals, seconds = r["evals"][-1], r["total_seconds"]
            else:
                evals = seconds = None
            rows.append({
                "reached": evals is not None,
                "eval_ratio": steps / evals if evals else None,
                "time_ratio": p["total_seconds"] / seconds if seconds else None,
                "final_loss_ratio": r["final_loss"] / p["final_loss"],
                "accuracy_gap": r["test_accuracy"] - p["test_accuracy"],
                "accepted": f"{r['accepted']}/{r['jumps']}",
            })  # fmt: skip
        out["summary"][name] = rows


def crn(dataset: str, hidden: int, epochs: int, settings: dict[str, Koopman], seeds: int,
        lr: float = 1e-2) -> dict:  # fmt: skip
    """Chemical-level ``fit`` of the compiled (untrained) MLP, full batch, plain vs Koopman.

    The accelerated run's step losses give the step at which it first reaches the plain
    run's final training loss; ``fit`` is then rerun for exactly that many steps (full batch:
    the same trajectory) and timed, and that network's test accuracy is the one compared.
    """
    Xtr, ytr, Xte, yte = load(dataset)
    out: dict = {"epochs": epochs, "hidden": hidden, "lr": lr, "rows": len(Xtr),
                 "settings": {k: repr(v) for k, v in settings.items()}, "runs": []}  # fmt: skip
    for seed in range(seeds):
        net = compile_network(build_mlp((Xtr.shape[1], hidden, len(np.unique(ytr))), seed=seed))
        tic = time.perf_counter()
        plain, ph = fit(net, Xtr, ytr, epochs=epochs, lr=lr)
        t_plain = time.perf_counter() - tic
        target = ph.final_loss
        row: dict = {"seed": seed, "plain_final_loss": target, "plain_seconds": t_plain,
                     "plain_evaluations": ph.evaluations, "plain_curve": ph.step_loss.tolist(),
                     "plain_test_accuracy": _accuracy(plain, Xte, yte), "koopman": {}}  # fmt: skip
        for name, koopman in settings.items():
            tic = time.perf_counter()
            full, kh = fit(net, Xtr, ytr, epochs=epochs, lr=lr, accelerate=koopman)
            k = {"final_loss": kh.final_loss, "full_seconds": time.perf_counter() - tic,
                 "jumps": len(kh.jumps), "accepted": sum(j.accepted for j in kh.jumps),
                 "max_abs_eig": [j.max_abs_eig for j in kh.jumps],
                 "curve": kh.step_loss.tolist(), "jump_steps": [j.step for j in kh.jumps],
                 "jump_accepted": [j.accepted for j in kh.jumps]}  # fmt: skip
            i = reach(kh.step_loss, None, target)
            if i is not None and i > 0:
                # step_loss[i] is the loss after i steps (and the jumps at <= i): rerun i epochs
                tic = time.perf_counter()
                short, sh = fit(net, Xtr, ytr, epochs=i, lr=lr, accelerate=koopman)
                k.update(reached=True, steps_to_reach=i, evaluations_to_reach=sh.evaluations,
                         seconds_to_reach=time.perf_counter() - tic, reached_loss=sh.final_loss,
                         test_accuracy=_accuracy(short, Xte, yte))  # fmt: skip
                k["eval_ratio"] = ph.evaluations / sh.evaluations
                k["time_ratio"] = t_plain / k["seconds_to_reach"]
            elif kh.final_loss <= target:  # reached only by the last jump: the full run
                k.update(reached=True, steps_to_reach=epochs, evaluations_to_reach=kh.evaluations,
                         seconds_to_reach=k["full_seconds"], reached_loss=kh.final_loss,
                         test_accuracy=_accuracy(full, Xte, yte))  # fmt: skip
                k["eval_ratio"] = ph.evaluations / kh.evaluations
                k["time_ratio"] = t_plain / k["seconds_to_reach"]
            else:
                k.update(reached=False, test_accuracy=_accuracy(full, Xte, yte))
            row["koopman"][name] = k
            print(f"crn {dataset} seed {seed} {name}: plain {target:.4f}, koopman final "
                  f"{kh.final_loss:.4f}, reached at step {i} of {epochs}, jumps "
                  f"{k['accepted']}/{k['jumps']}", flush=True)  # fmt: skip
        out["runs"].append(row)
    return out


def _accuracy(network, X, y) -> float:
    return float((fixed_point(network, X).outputs.argmax(1) == y).mean())
