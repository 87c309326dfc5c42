"""Numba kernels simulating one trajectory of the chemical master equation.

Every kernel shares the signature
``(rng, x, t_end, sample_t, bounds, m..., max_steps, max_count, out, acc, ...)`` and returns
``(status, n_events, n_steps)`` with ``status`` 0 (reached ``t_end``), 1 (hit ``max_steps``
solver steps) or 2 (a count passed ``max_count`` or a propensity overflowed: explosive
growth).  ``x`` (int64 counts) is updated in place;
``out[s]`` receives the counts at ``sample_t[s]`` (rows of sample times the run never
reaches are left as the caller filled them); ``acc[w]`` the time integral of the
counts over ``[bounds[w], bounds[w + 1]]`` (the batch-means windows after the burn-in).
Integrals are kept lazily: a species' integral is brought up to date only when it
changes or a window closes, so an event costs O(its dependencies), not O(n_species).
The exact kernels keep the next mark (sample time or window bound) in a scalar and touch
the recording arrays only when an event passes it: on birth–death this halved the cost
per event (from about 53 to 30 ns, same trajectories).
The kernels release the GIL (``nogil``), so threads run trajectories in parallel.
Pure-Python event loops would be about a hundred times slower; these compile once
(``cache=True``). The exact kernels draw from their own inline generator (the state
``st``, see :mod:`._random`); tau-leaping, which needs Poisson variates, takes a
:class:`numpy.random.Generator` ``gen``. Either way each run has its own reproducible stream.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from nncrn.simulate._ssa._random import exponential, uniform

__all__ = ["direct_kernel", "next_reaction_kernel", "tau_leap_kernel"]

OK, MAX_EVENTS, OVERFLOW = 0, 1, 2


@njit(cache=True)
def _propensity(j, x, c, rptr, rsp, rnu):
    a = c[j]
    for p in range(rptr[j], rptr[j + 1]):
        n = x[rsp[p]]
        for k in range(rnu[p]):
            a *= n - k
    return a


@njit(cache=True, inline="always")
def _advance(t_new, x, sample_t, si, bounds, wi, last, out, acc):
    """Record samples and close windows at every mark before ``t_new``; return (si, wi)."""
    ns, nb = sample_t.shape[0], bounds.shape[0]
    while True:
        ts = sample_t[si] if si < ns else np.inf
        tb = bounds[wi] if wi < nb else np.inf
        if ts >= t_new and tb >= t_new:
            return si, wi
        if tb <= ts:
            if wi > 0:
                for i in range(x.shape[0]):
                    acc[wi - 1, i] += x[i] * (tb - last[i])
            for i in range(x.shape[0]):
                last[i] = tb
            wi += 1
        else:
            for i in range(x.shape[0]):
                out[si, i] = x[i]
            si += 1


@njit(cache=True, inline="always")
def _marks(t_new, x, sample_t, si, bounds, wi, last, out, acc):
    """As :func:`_advance`, also returning the next mark (sample time or window bound).

    The exact kernels call it only when an event passes that mark, so an event's
    bookkeeping is one comparison.
    """
    si, wi = _advance(t_new, x, sample_t, si, bounds, wi, last, out, acc)
    ts = sample_t[si] if si < sample_t.shape[0] else np.inf
    tb = bounds[wi] if wi < bounds.shape[0] else np.inf
    return si, wi, min(ts, tb), 0 < wi < bounds.shape[0]


@njit(cache=True, inline="always")
def _apply(j, t, x, nptr, nsp, nnu, wi, inwin, last, acc, max_count):
    """Fire reaction ``j`` at ``t`` (``inwin``: inside a window); False past ``max_count``."""
    ok = True
    for p in range(nptr[j], nptr[j + 1]):
        i = nsp[p]
        if inwin:
            acc[wi - 1, i] += x[i] * (t - last[i])
            last[i] = t
        x[i] += nnu[p]
        if x[i] > max_count:
            ok = False
    return ok


@njit(cache=True, inline="always")
def _change(i, delta, t, x, wi, nb, last, acc):
    if 0 < wi < nb:
        acc[wi - 1, i] += x[i] * (t - last[i])
        last[i] = t
    x[i] += delta


@njit(cache=True)
def _select(a, target):
    """Index of the reaction whose cumulative propensity first exceeds ``target``.

    Reactions with zero propensity are never chosen, even when roundoff leaves ``target``
    at or above the running sum (the last positive one is taken then).
    """
    r, cum = -1, 0.0
    for j in range(a.shape[0]):
        if a[j] > 0:
            r = j
            cum += a[j]
            if cum > target:
                break
    return r


_SMALL = 32  # up to this many reactions, the direct method selects without branching


@njit(cache=True, inline="always")
def _select_small(a, target):
    """:func:`_select` without data-dependent branches, for a few reactions.

    Counts the partial sums at or below ``target``; the first one above it is the chosen
    reaction (zero propensities add nothing, so they are never chosen). A random choice
    between reactions mispredicts a branch about once per event; counting costs a few
    additions more. Roundoff that leaves ``target`` at or above the total takes the last
    positive reaction, as :func:`_select` does.
    """
    n = a.shape[0]
    r, cum = 0, 0.0
    for j in range(n):
        cum += a[j]
        r += cum <= target
    if r >= n:
        r = n - 1
        while r > 0 and a[r] <= 0:
            r -= 1
    return r


@njit(cache=True, inline="always")
def _fire(j, t, x, nptr, nsp, nnu, wi, nb, last, acc, max_count):
    """Apply reaction ``j`` at time ``t``; False when a count it raised passed ``max_count``."""
    ok = True
    for p in range(nptr[j], nptr[j + 1]):
        _change(nsp[p], nnu[p], t, x, wi, nb, last, acc)
        if x[nsp[p]] > max_count:
            ok = False
    return ok


@njit(cache=True, nogil=True)
def direct_kernel(st, x, t_end, sample_t, bounds, c, rptr, rsp, rnu, nptr, nsp, nnu,
                  dptr, didx, max_steps, max_count, out, acc):  # fmt: skip
    """Gillespie's direct method: one exponential and one linear search per event."""
    n_r = c.shape[0]
    small = n_r <= _SMALL
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    last = np.zeros(x.shape[0])
    a = np.empty(n_r)
    for j in range(n_r):
        a[j] = _propensity(j, x, c, rptr, rsp, rnu)
    t, n_ev, status = 0.0, 0, OK
    si, wi, mark, inwin = _marks(0.0, x, sample_t, 0, bounds, 0, last, out, acc)
    stop = min(t_end, mark)
    while True:
        a0 = 0.0
        for j in range(n_r):
            a0 += a[j]
        if not a0 < np.inf:  # inf or nan
            status = OVERFLOW
            break
        e, s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
        t_new = t + e / a0 if a0 > 0 else np.inf
        if t_new > stop:
            si, wi, mark, inwin = _marks(t_new, x, sample_t, si, bounds, wi, last, out, acc)
            if t_new > t_end:
                break
            stop = min(t_end, mark)
        if n_ev >= max_steps:
            status = MAX_EVENTS
            break
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        r = _select_small(a, u * a0) if small else _select(a, u * a0)
        if not _apply(r, t_new, x, nptr, nsp, nnu, wi, inwin, last, acc, max_count):
            status = OVERFLOW
        for p in range(dptr[r], dptr[r + 1]):
            a[didx[p]] = _propensity(didx[p], x, c, rptr, rsp, rnu)
        n_ev += 1
        t = t_new
        if status != OK:
            break
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    _advance(np.inf if status == OK else t, x, sample_t, si, bounds, wi, last, out, acc)
    return status, n_ev, n_ev


@njit(cache=True)
def _sift(heap, pos, key, i):
    """Restore the min-heap property around heap slot ``i`` (indexed priority queue)."""
    n = heap.shape[0]
    while i > 0:
        parent = (i - 1) // 2
        if key[heap[i]] < key[heap[parent]]:
            heap[i], heap[parent] = heap[parent], heap[i]
            pos[heap[i]] = i
            pos[heap[parent]] = parent
            i = parent
        else:
            break
    while True:
        left, small = 2 * i + 1, i
        if left < n and key[heap[left]] < key[heap[small]]:
            small = left
        if left + 1 < n and key[heap[left + 1]] < key[heap[small]]:
            small = left + 1
        if small == i:
            return
        heap[i], heap[small] = heap[small], heap[i]
        pos[heap[i]] = i
        pos[heap[small]] = small
        i = small


@njit(cache=True, nogil=True)
def next_reaction_kernel(st, x, t_end, sample_t, bounds, c, rptr, rsp, rnu, nptr, nsp, nnu,
                         dptr, didx, max_steps, max_count, out, acc):  # fmt: skip
    """Gibson & Bruck's next reaction method: O(dependencies * log n_reactions) per event.

    Putative firing times sit in an indexed binary heap; when a dependent reaction's
    propensity changes from ``a`` to ``a'`` its remaining waiting time is rescaled by
    ``a / a'`` instead of drawing a new exponential (exact by the memoryless property).
    """
    n_r = c.shape[0]
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    last = np.zeros(x.shape[0])
    a = np.empty(n_r)
    key = np.empty(n_r)
    for j in range(n_r):
        a[j] = _propensity(j, x, c, rptr, rsp, rnu)
        e, s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
        key[j] = e / a[j] if a[j] > 0 else np.inf
    heap = np.argsort(key)  # a sorted array is a valid binary heap
    pos = np.empty(n_r, dtype=np.int64)
    for i in range(n_r):
        pos[heap[i]] = i
    t, n_ev, status = 0.0, 0, OK
    si, wi, mark, inwin = _marks(0.0, x, sample_t, 0, bounds, 0, last, out, acc)
    stop = min(t_end, mark)
    while n_r > 0:
        r = heap[0]
        t_new = key[r]
        if t_new > stop:
            si, wi, mark, inwin = _marks(t_new, x, sample_t, si, bounds, wi, last, out, acc)
            if t_new > t_end:
                break
            stop = min(t_end, mark)
        if n_ev >= max_steps:
            status = MAX_EVENTS
            break
        if not _apply(r, t_new, x, nptr, nsp, nnu, wi, inwin, last, acc, max_count):
            status = OVERFLOW
        for p in range(dptr[r], dptr[r + 1]):
            d = didx[p]
            if d == r:
                continue
            new = _propensity(d, x, c, rptr, rsp, rnu)
            if not math.isfinite(new):
                status = OVERFLOW
            elif new <= 0:
                key[d] = np.inf
            elif a[d] > 0 and key[d] < np.inf:
                key[d] = t_new + (a[d] / new) * (key[d] - t_new)
            else:
                e, s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
                key[d] = t_new + e / new
            a[d] = new
            _sift(heap, pos, key, pos[d])
        a[r] = _propensity(r, x, c, rptr, rsp, rnu)
        if not math.isfinite(a[r]):
            status = OVERFLOW
        e, s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
        key[r] = t_new + e / a[r] if a[r] > 0 else np.inf
        _sift(heap, pos, key, pos[r])
        n_ev += 1
        t = t_new
        if status != OK:
            break
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    _advance(np.inf if status == OK else t, x, sample_t, si, bounds, wi, last, out, acc)
    return status, n_ev, n_ev


@njit(cache=True)
def _leap_bound(x, a, crit, c_order, rptr, rsp, rnu, nptr, nsp, nnu, eps, mu, sig):
    """Cao, Gillespie & Petzold (2006) leap size: each reactant species' expected change and
    standard deviation over the leap stay below ``max(eps * x_i / g_i, 1)``."""
    n_s = x.shape[0]
    g = np.zeros(n_s)
    for i in range(n_s):
        mu[i] = 0.0
        sig[i] = 0.0
    for j in range(a.shape[0]):
        for p in range(rptr[j], rptr[j + 1]):
            n, nu = x[rsp[p]], rnu[p]
            s = 0.0
            for k in range(nu):
                s += n / (n - k) if n > k else 1.0
            g[rsp[p]] = max(g[rsp[p]], c_order[j] / nu * s)
        if crit[j] or a[j] == 0:
            continue
        for p in range(nptr[j], nptr[j + 1]):
            mu[nsp[p]] += nnu[p] * a[j]
            sig[nsp[p]] += nnu[p] * nnu[p] * a[j]
    tau = np.inf
    for i in range(n_s):
        if g[i] == 0:
            continue
        bound = max(eps * x[i] / g[i], 1.0)
        if mu[i] != 0:
            tau = min(tau, bound / abs(mu[i]))
        if sig[i] > 0:
            tau = min(tau, bound * bound / sig[i])
    return tau


@njit(cache=True, nogil=True)
def tau_leap_kernel(gen, x, t_end, sample_t, bounds, c, rptr, rsp, rnu, nptr, nsp, nnu,
                    dptr, didx, max_steps, max_count, out, acc, c_order, eps, n_critical,
                    ssa_factor, n_ssa):  # fmt: skip
    """Cao–Gillespie–Petzold (2006) tau-leaping with critical reactions and exact fallback.

    A reaction is critical when it could exhaust a reactant within ``n_critical`` firings;
    critical reactions fire at most once per leap (exactly, by their own exponential
    clock) so counts cannot go negative through them.  When the leap would be shorter
    than ``ssa_factor / a0`` (few molecules), ``n_ssa`` exact direct-method steps are
    taken instead.  A leap that still drives a count negative is rejected and halved.
    Leaps end exactly at sample times and window bounds so records are exact there.
    """
    n_r, n_s = c.shape[0], x.shape[0]
    nb = bounds.shape[0]
    last = np.zeros(n_s)
    a = np.empty(n_r)
    crit = np.zeros(n_r, dtype=np.bool_)
    mu = np.empty(n_s)
    sig = np.empty(n_s)
    fired = np.zeros(n_r, dtype=np.int64)
    delta = np.zeros(n_s, dtype=np.int64)
    t, si, wi, n_ev, n_steps, status, exact_left = 0.0, 0, 0, 0, 0, OK, 0
    while status == OK:
        a0 = 0.0
        for j in range(n_r):
            a[j] = _propensity(j, x, c, rptr, rsp, rnu)
            a0 += a[j]
        if not math.isfinite(a0):
            status = OVERFLOW
            break
        if a0 == 0:
            break
        if n_steps >= max_steps:
            status = MAX_EVENTS
            break
        # marks at exactly t see the current state (counts are right-continuous in time)
        si, wi = _advance(np.nextafter(t, np.inf), x, sample_t, si, bounds, wi, last, out, acc)
        ts = sample_t[si] if si < sample_t.shape[0] else np.inf
        tb = bounds[wi] if wi < nb else np.inf
        mark = min(ts, tb, t_end)
        if exact_left == 0:
            a0c = 0.0
            for j in range(n_r):
                lj = np.inf
                for p in range(nptr[j], nptr[j + 1]):
                    if nnu[p] < 0:
                        lj = min(lj, x[nsp[p]] // -nnu[p])
                crit[j] = a[j] > 0 and lj < n_critical
                if crit[j]:
                    a0c += a[j]
            tau1 = _leap_bound(x, a, crit, c_order, rptr, rsp, rnu, nptr, nsp, nnu, eps, mu, sig)
            if tau1 < ssa_factor / a0:
                exact_left = n_ssa
        if exact_left > 0:  # one exact direct-method step
            exact_left -= 1
            t_new = t + gen.standard_exponential() / a0
            si, wi = _advance(t_new, x, sample_t, si, bounds, wi, last, out, acc)
            if t_new > t_end:
                break
            r = _select(a, gen.random() * a0)
            if not _fire(r, t_new, x, nptr, nsp, nnu, wi, nb, last, acc, max_count):
                status = OVERFLOW
            n_ev += 1
            n_steps += 1
            t = t_new
            continue
        while True:  # leap; halve tau1 until no count goes negative
            tau2 = gen.standard_exponential() / a0c if a0c > 0 else np.inf
            tau = min(tau1, tau2, mark - t)
            t_new = mark if tau == mark - t else t + tau
            for j in range(n_r):
                fired[j] = 0 if crit[j] else gen.poisson(a[j] * tau)
            if tau2 <= tau1 and tau2 < mark - t:
                target = gen.random() * a0c
                r, cum = -1, 0.0
                for j in range(n_r):
                    if crit[j]:
                        r = j
                        cum += a[j]
                        if cum > target:
                            break
                fired[r] += 1
            for i in range(n_s):
                delta[i] = 0
            for j in range(n_r):
                for p in range(nptr[j], nptr[j + 1]):
                    delta[nsp[p]] += fired[j] * nnu[p]
            ok = True
            for i in range(n_s):
                if x[i] + delta[i] < 0:
                    ok = False
                if x[i] + delta[i] > max_count:
                    status = OVERFLOW
            if ok or status != OK:
                break
            tau1 = tau1 / 2
        if status != OK:
            break
        si, wi = _advance(t_new, x, sample_t, si, bounds, wi, last, out, acc)
        for i in range(n_s):
            if delta[i] != 0:
                _change(i, delta[i], t_new, x, wi, nb, last, acc)
        for j in range(n_r):
            n_ev += fired[j]
        n_steps += 1
        t = t_new
        if t >= t_end:
            break
    _advance(np.inf if status == OK else t, x, sample_t, si, bounds, wi, last, out, acc)
    return status, n_ev, n_steps
