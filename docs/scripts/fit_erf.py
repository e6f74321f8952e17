#!/usr/bin/env python3
"""Fits the rational erf of FastMath.erf (Sources/BSQAudio/NN/FastMath.swift):
erf(z) ~ z P(z^2) / Q(z^2), P of degree 6 and Q of degree 5 in z^2 with Q(0) = 1,
on z in [0, 4] (erf(4) rounds to 1 in float32), by iterated weighted linear least
squares (Sanathanan-Koerner: divide by the previous Q, weight the largest errors up).
Then checks GELU(x) = x (1/2 + erf(x / sqrt 2) / 2) computed in float32 exactly as the
Swift code does (Horner with separate multiply and add, clamp at |z| = 4) against
math.erfc in float64 on [-12, 12]. Needs numpy and mpmath.

    python3 docs/scripts/fit_erf.py
"""
import math

import numpy as np
from mpmath import erf as mp_erf, mp

mp.dps = 30
NP, NQ = 6, 5


def fit():
    z = np.linspace(0, 4, 4001)
    y = np.array([float(mp_erf(float(t))) for t in z])
    s = z * z
    w = np.ones_like(z)
    for _ in range(30):
        cols = [z * s ** i for i in range(NP + 1)] + [-y * s ** j for j in range(1, NQ + 1)]
        A = np.stack(cols, 1) * w[:, None]
        coef, *_ = np.linalg.lstsq(A, y * w, rcond=None)
        a, b = coef[:NP + 1], np.concatenate([[1.0], coef[NP + 1:]])
        q = np.polyval(b[::-1], s)
        err = z * np.polyval(a[::-1], s) / q - y
        w = (1 + 5 * np.abs(err) / np.abs(err).max()) / np.abs(q)
    return a, b, np.abs(err).max()


def gelu32(x, a, b):
    f = np.float32
    z = np.clip(x * f(0.70710678118654752), f(-4), f(4)).astype(f)
    s = (z * z).astype(f)
    p = np.full_like(z, a[-1])
    for c in a[-2::-1]:
        p = (p * s).astype(f) + c
    q = np.full_like(z, b[-1])
    for c in b[-2::-1]:
        q = (q * s).astype(f) + c
    e = ((z * p).astype(f) / q).astype(f)
    return (x * (f(0.5) + f(0.5) * e).astype(f)).astype(f)


def main():
    a, b, e = fit()
    a32, b32 = np.array([float(f"{c:.9e}") for c in a], np.float32), np.array([float(f"{c:.9e}") for c in b], np.float32)
    print("P (z^0 .. z^12):", ", ".join(f"{c:.9e}" for c in a))
    print("Q (z^0 .. z^10):", ", ".join(f"{c:.9e}" for c in b))
    x = np.linspace(-12, 12, 342857).astype(np.float32)
    g = gelu32(x, a32, b32).astype(np.float64)
    ref = np.array([float(t) * 0.5 * math.erfc(-float(t) / math.sqrt(2)) for t in x])
    err = np.abs(g - ref)
    print(f"fit error {e:.2e}; float32 GELU: max abs error {err.max():.2e}, "
          f"max error / max(1, |x|) {(err / np.maximum(1, np.abs(x))).max():.2e}")


if __name__ == "__main__":
    main()
