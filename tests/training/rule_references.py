"""Independent NumPy (float64) implementations of the learning rules' updates, written from
their equations step by step (forward trace recursions, one sample at a time), for the tests."""

from __future__ import annotations

import numpy as np


def act(name: str, z: np.ndarray) -> np.ndarray:
    return np.tanh(z) if name == "tanh" else np.maximum(z, 0.0)


def dact(name: str, z: np.ndarray) -> np.ndarray:
    return 1 - np.tanh(z) ** 2 if name == "tanh" else (z > 0).astype(float)


def step(form, activation, alpha, w, w_in, b, state, rates, u):
    """One step of the rate or current form from rates r_{t-1}: (a_t, state_t, rates_t)."""
    a = w @ rates + w_in @ u + b
    if form == "rate":
        state = (1 - alpha) * state + alpha * act(activation, a)
        return a, state, state
    state = (1 - alpha) * state + alpha * a
    return a, state, act(activation, state)


def initial(form, activation, n):
    state = np.zeros(n)
    return state, (state if form == "rate" else act(activation, state))


def eligibility_gradient(form, activation, alpha, p, u, y, mask, feedback, trace):
    """RFLO ("inside") or e-prop ("outside") estimate by the forward trace recursions.

    p: dict of w, w_in, b, w_out, b_out (one network); u (T, B, I), y and mask (T, B, O);
    feedback (N, O) or None for W_out^T.  Returns dict of gradient arrays."""
    w, w_in, b, w_out, b_out = (p[k] for k in ("w", "w_in", "b", "w_out", "b_out"))
    n, n_in = w.shape[0], w_in.shape[1]
    steps, batch = u.shape[:2]
    fb = w_out.T if feedback is None else feedback
    denom = mask.sum()
    grad = np.zeros((n, n + n_in + 1))
    g_out, g_bout = np.zeros_like(w_out), np.zeros_like(b_out)
    for k in range(batch):
        state, rates = initial(form, activation, n)
        tr = np.zeros((n, n + n_in + 1))
        for t in range(steps):
            pre = np.concatenate([rates, u[t, k], [1.0]])
            a, state, rates = step(form, activation, alpha, w, w_in, b, state, rates, u[t, k])
            post = a if form == "rate" else state
            if trace == "inside" or form == "rate":
                tr = (1 - alpha)[:, None] * tr + (alpha * dact(activation, post))[:, None] * pre
                elig = tr
            else:
                tr = (1 - alpha)[:, None] * tr + alpha[:, None] * pre[None, :]
                elig = dact(activation, state)[:, None] * tr
            z = w_out @ rates + b_out
            e = 2 * mask[t, k] * (z - y[t, k]) / denom
            grad += (fb @ e)[:, None] * elig
            g_out += np.outer(e, rates)
            g_bout += e
    return {
        "w": grad[:, :n],
        "w_in": grad[:, n : n + n_in],
        "b": grad[:, -1],
        "w_out": g_out,
        "b_out": g_bout,
    }


def force(form, activation, alpha, p, u, y, mask, w_fb, p_alpha, every):
    """FORCE with scalar RLS updates, one trial sample after the other within a step (errors
    recomputed after each), feedback folded into W.  Returns (weights, P)."""
    w, b, w_out, b_out = (p[k].copy() for k in ("w", "b", "w_out", "b_out"))
    w_in = p["w_in"]
    n = w.shape[0]
    steps, batch = u.shape[:2]
    big_p = np.eye(n + 1) / p_alpha
    states = [initial(form, activation, n) for _ in range(batch)]
    for t in range(steps):
        rates_t = []
        for k in range(batch):
            _, s, r = step(form, activation, alpha, w, w_in, b, *states[k], u[t, k])
            states[k] = (s, r)
            rates_t.append(r)
        if (t + 1) % every:
            continue
        old = w_out.copy(), b_out.copy()
        for k in range(batch):
            if mask[t, k].max() <= 0:
                continue
            rhat = np.concatenate([rates_t[k], [1.0]])
            e = w_out @ rates_t[k] + b_out - y[t, k]
            k_vec = big_p @ rhat
            c = 1 / (1 + rhat @ k_vec)
            big_p -= c * np.outer(k_vec, k_vec)
            w_out -= c * np.outer(e, k_vec[:n])
            b_out -= c * e * k_vec[n]
        w += w_fb @ (w_out - old[0])
        b += w_fb @ (b_out - old[1])
    return {"w": w, "b": b, "w_out": w_out, "b_out": b_out}, big_p


def full_force(form, activation, alpha, p, u, y, mask, j_d, u_out, p_alpha, every, lengths):
    """full-FORCE with scalar RLS updates per trial sample (errors recomputed after each); a
    sample that has no output target (unscored) or no next-step current (the trial's last
    step) is fitted to the weights at the start of its step, which is what a zero error in the
    block update means."""
    w, b, w_out, b_out = (p[k].copy() for k in ("w", "b", "w_out", "b_out"))
    w_in = p["w_in"]
    n = w.shape[0]
    steps, batch = u.shape[:2]
    big_p = np.eye(n + 1) / p_alpha
    states = [initial(form, activation, n) for _ in range(batch)]
    teachers = [initial(form, activation, n) for _ in range(batch)]
    for t in range(steps):
        rates_t, teacher_t = [], []
        for k in range(batch):
            _, s, r = step(form, activation, alpha, w, w_in, b, *states[k], u[t, k])
            states[k] = (s, r)
            rates_t.append(r)
            a = j_d @ teachers[k][1] + w_in @ u[t, k] + u_out @ y[t, k]
            s_d, r_d = teachers[k]
            if form == "rate":
                s_d = (1 - alpha) * s_d + alpha * act(activation, a)
                r_d = s_d
            else:
                s_d = (1 - alpha) * s_d + alpha * a
                r_d = act(activation, s_d)
            teachers[k] = (s_d, r_d)
            teacher_t.append(r_d)
        if (t + 1) % every:
            continue
        start = w.copy(), b.copy(), w_out.copy(), b_out.copy()
        for k in range(batch):
            if t >= lengths[k]:
                continue
            r = rates_t[k]
            rhat = np.concatenate([r, [1.0]])
            # a sample without a target of its own is fitted to the step's starting weights
            wanted_z = y[t, k] if mask[t, k].max() > 0 else start[2] @ r + start[3]
            e_z = w_out @ r + b_out - wanted_z
            has_next = t + 1 < lengths[k]  # W learns the current of the next step
            teacher = j_d @ teacher_t[k] + u_out @ y[min(t + 1, steps - 1), k]
            wanted_j = teacher if has_next else start[0] @ r + start[1]
            e_j = w @ r + b - wanted_j
            k_vec = big_p @ rhat
            c = 1 / (1 + rhat @ k_vec)
            big_p -= c * np.outer(k_vec, k_vec)
            w -= c * np.outer(e_j, k_vec[:n])
            b -= c * e_j * k_vec[n]
            w_out -= c * np.outer(e_z, k_vec[:n])
            b_out -= c * e_z * k_vec[n]
    return {"w": w, "b": b, "w_out": w_out, "b_out": b_out}, big_p


def node_perturbation(form, activation, alpha, p, u, y, mask, xi, hp, types, baselines, seen):
    """Miconi's rule for one network: per trial, the explicit sum over t of (r_j ds_i)^3 (and
    ds_i^3 for the bias) and the sequential per-type baseline.  Returns (dW, db, baselines)."""
    w, w_in, b, w_out, b_out = (p[k] for k in ("w", "w_in", "b", "w_out", "b_out"))
    n = w.shape[0]
    steps, batch = u.shape[:2]
    total, total_b = np.zeros_like(w), np.zeros_like(b)
    baselines = dict(baselines)
    for k in range(batch):
        state, rates = initial(form, activation, n)
        mean = np.zeros(n)
        hebb, hebb_b = np.zeros_like(w), np.zeros_like(b)
        err_sum, w_sum = 0.0, 0.0
        for t in range(steps):
            prev = rates
            a = w @ prev + w_in @ u[t, k] + b + xi[t, k]
            if form == "rate":
                state = (1 - alpha) * state + alpha * act(activation, a)
                rates = state
            else:
                state = (1 - alpha) * state + alpha * a
                rates = act(activation, state)
            ds = state - mean
            mean = hp["trace_decay"] * mean + (1 - hp["trace_decay"]) * state
            for i in range(n):
                for j in range(n):
                    hebb[i, j] += (prev[j] * ds[i]) ** 3
                hebb_b[i] += ds[i] ** 3
            z = w_out @ rates + b_out
            err_sum += (mask[t, k] * np.abs(z - y[t, k])).sum()
            w_sum += mask[t, k].sum()
        r_err = err_sum / w_sum
        bar = baselines.get(types[k], 0.0)
        if seen + k >= hp["warmup_trials"]:
            total += bar * (r_err - bar) * hebb
            total_b += bar * (r_err - bar) * hebb_b
        baselines[types[k]] = hp["baseline_decay"] * bar + (1 - hp["baseline_decay"]) * r_err
    clip = hp["max_update"]
    delta = np.clip(-hp["eta"] * total / batch, -clip, clip)
    return delta, np.clip(-hp["eta"] * total_b / batch, -clip, clip), baselines
