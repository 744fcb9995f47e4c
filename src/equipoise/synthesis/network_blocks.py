"""Stacked study contrasts with a block-diagonal covariance: GLS and REML in T x T algebra.

Each p-arm study contributes its arms against its first arm, y_s = G te_s with G = [-1 | I],
and their covariance V_s = S_s + tau² P (S_s from Rücker's reduction, P = 1 on the diagonal and
1/2 off it). V is block-diagonal, so with W = V^-1 every product the fits need is a sum over
studies, X'DX = sum_s G' D_s G scattered into the study's treatment columns (a Laplacian), and
with A = (X'WX)^-1 and R = W - WX A X'W,

    tr(RP)   = tr(WP) - tr(A X'WPWX)
    tr(RPRP) = tr(WPWP) - 2 tr(A X'WPWPWX) + tr((A X'WPWX)²)
    y'RPRy   = r'WPWr          (r the GLS residuals).

Studies are stacked by arm count, so each step is one batched numpy call per arm count and no
M x M (or M x T) matrix is formed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from equipoise.errors import ConvergenceError
from equipoise.evidence.network import StudyContrasts, TreatmentNetwork
from equipoise.synthesis.batch import Float

Index = NDArray[np.intp]


def _p_block(k: int) -> Float:
    """Between-study structure of a study with k contrasts: 1 on the diagonal, 1/2 off it."""
    return 0.5 * (np.eye(k) + 1.0)


def _reduce(var: Float) -> Float:
    """Rücker's reduction of stacked (n, p, p) pairwise variances -> (n, p-1, p-1) covariance
    of the contrasts against the first arm."""
    p = var.shape[1]
    B = np.where(np.eye(p, dtype=bool), 0.0, var)
    C = np.eye(p) - 1.0 / p
    L = -0.5 * C @ B @ C
    return np.asarray(L[:, 1:, 1:] - L[:, 1:, :1] - L[:, :1, 1:] + L[:, :1, :1])


def _inv(a: Float) -> Float:
    return np.asarray(np.linalg.inv(a), dtype=np.float64)


def _lift(D: Float) -> Float:
    """G' D G for stacked (n, k, k) D, G = [-1 | I]: (n, k+1, k+1) in arm coordinates."""
    n, k = D.shape[:2]
    out = np.empty((n, k + 1, k + 1))
    out[:, 1:, 1:] = D
    out[:, 0, 1:] = -D.sum(axis=1)
    out[:, 1:, 0] = -D.sum(axis=2)
    out[:, 0, 0] = D.sum(axis=(1, 2))
    return out


@dataclass(frozen=True, eq=False)
class _Group:
    """The n studies with p = k + 1 arms each."""

    study: Index    # (n,) position in the stacked studies
    cols: Index     # (n, p) treatment column of each arm
    y: Float        # (n, k) contrasts against the first arm
    S: Float        # (n, k, k) their within-study covariance

    def fitted(self, d: Float) -> Float:
        """X d for this group's contrasts, (n, k)."""
        return np.asarray(d[self.cols[:, 1:]] - d[self.cols[:, :1]])


@dataclass(frozen=True, eq=False)
class Blocks:
    """Stacked basic contrasts of studies, grouped by arm count (study order within a group)."""

    groups: tuple[_Group, ...]
    n_treatments: int

    @property
    def m(self) -> int:
        """Number of basic contrasts."""
        return sum(g.y.size for g in self.groups)

    def weights(self, tau2: float) -> list[Float]:
        """W = (S + tau² P)^-1 per group, (n, k, k)."""
        return [_inv(g.S + tau2 * _p_block(g.S.shape[1])) for g in self.groups]

    def xtdx(self, D: list[Float]) -> Float:
        """X' blockdiag(D) X, (T, T)."""
        T = self.n_treatments
        idx = np.concatenate([(g.cols[:, :, None] * T + g.cols[:, None, :]).ravel()
                              for g in self.groups])
        vals = np.concatenate([_lift(d).ravel() for d in D])
        return np.asarray(np.bincount(idx, vals, minlength=T * T), dtype=np.float64).reshape(T, T)

    def xtv(self, v: list[Float]) -> Float:
        """X' v for stacked per-group (n, k) vectors v, (T,)."""
        idx = np.concatenate([g.cols.ravel() for g in self.groups])
        vals = np.concatenate([np.concatenate([-x.sum(axis=1, keepdims=True), x], axis=1).ravel()
                               for x in v])
        return np.asarray(np.bincount(idx, vals, minlength=self.n_treatments), dtype=np.float64)

    def dense(self) -> tuple[Float, Float, Float, Float, Index]:
        """(y, X, S, P, study of each row) with M x M S and P, rows in group order (for models
        whose covariance is not per study)."""
        T, m = self.n_treatments, self.m
        X, S, P = np.zeros((m, T)), np.zeros((m, m)), np.zeros((m, m))
        at = 0
        for g in self.groups:
            n, k = g.S.shape[:2]
            rows = at + np.arange(n * k)
            X[rows, g.cols[:, 1:].ravel()] += 1.0
            X[rows, np.repeat(g.cols[:, 0], k)] -= 1.0
            for j in range(n):
                sl = slice(at + j * k, at + (j + 1) * k)
                S[sl, sl] = g.S[j]
                P[sl, sl] = _p_block(k)
            at += n * k
        y = np.concatenate([g.y.ravel() for g in self.groups])
        study = np.concatenate([np.repeat(g.study, g.y.shape[1]) for g in self.groups])
        return y, X, S, P, study


def blocks(studies: tuple[StudyContrasts, ...], treatments: tuple[str, ...]) -> Blocks:
    """Stack ``studies``' contrasts against their first arm; columns are ``treatments``."""
    index = {t: i for i, t in enumerate(treatments)}
    by_arms: dict[int, list[int]] = {}
    for s_i, sc in enumerate(studies):
        by_arms.setdefault(sc.arms, []).append(s_i)
    groups = []
    for p in sorted(by_arms):
        members = by_arms[p]
        groups.append(_Group(
            np.array(members, dtype=np.intp),
            np.array([[index[t] for t in studies[i].treatments] for i in members], dtype=np.intp),
            np.stack([studies[i].te[1:, 0] for i in members]),
            _reduce(np.stack([studies[i].var for i in members]))))
    return Blocks(tuple(groups), len(treatments))


@dataclass(frozen=True, eq=False)
class GLS:
    """Generalised least squares with V = S + tau² P; keeps what the REML step reuses."""

    d: Float            # (T,) effects vs reference (reference entry 0)
    cov: Float          # (T, T)
    q: float            # r'Wr
    R_trace_P: float
    W: list[Float]      # per group (n, k, k)
    Wr: list[Float]     # per group (n, k)
    A: Float            # (T-1, T-1) = (X'WX)^-1 without the reference
    keep: list[int]     # the columns of A
    trace_wp: float
    xwpwx: Float        # (T-1, T-1) X'WPWX


def gls(b: Blocks, tau2: float, ref: int) -> GLS:
    """GLS fit of the consistency model with the treatment ``ref`` as reference."""
    T = b.n_treatments
    keep = [i for i in range(T) if i != ref]
    sub = np.ix_(keep, keep)
    W = b.weights(tau2)
    A = _inv(b.xtdx(W)[sub])
    Wy = [w @ g.y[:, :, None] for w, g in zip(W, b.groups, strict=True)]
    d = np.zeros(T)
    d[keep] = A @ b.xtv([x[:, :, 0] for x in Wy])[keep]
    r = [g.y - g.fitted(d) for g in b.groups]
    Wr = [(w @ x[:, :, None])[:, :, 0] for w, x in zip(W, r, strict=True)]
    P = [_p_block(w.shape[1]) for w in W]
    trace_wp = float(sum(np.einsum("nij,ji->", w, p) for w, p in zip(W, P, strict=True)))
    xwpwx = b.xtdx([w @ p @ w for w, p in zip(W, P, strict=True)])[sub]
    cov = np.zeros((T, T))
    cov[sub] = A
    return GLS(d, cov, float(sum(np.sum(x * y) for x, y in zip(r, Wr, strict=True))),
               trace_wp - float(np.sum(A * xwpwx.T)), W, Wr, A, keep, trace_wp, xwpwx)


def reml_score(b: Blocks, tau2: float, ref: int) -> tuple[float, float]:
    """Twice the restricted score and expected information in tau²: r'WPWr - tr(RP), tr(RPRP)."""
    g = gls(b, tau2, ref)
    WP = [w @ _p_block(w.shape[1]) for w in g.W]
    trace_wpwp = float(sum(np.einsum("nij,nji->", x, x) for x in WP))
    xwpwpwx = b.xtdx([x @ x @ w for x, w in zip(WP, g.W, strict=True)])[np.ix_(g.keep, g.keep)]
    # einsum, not @: a threaded BLAS product of this size is slow on a busy machine
    ab1 = np.einsum("ij,jk->ik", g.A, g.xwpwx)
    rpry = float(sum(np.sum(x * (x @ _p_block(x.shape[1]))) for x in g.Wr))
    info = trace_wpwp - 2.0 * float(np.sum(g.A * xwpwpwx.T)) + float(np.sum(ab1 * ab1.T))
    return rpry - g.R_trace_P, info


def reml_tau2(b: Blocks, ref: int, start: float, threshold: float, maxiter: int) -> float:
    """REML tau² by Fisher scoring from ``start`` (steps halved to stay >= 0)."""
    tau2 = max(start, 0.0)
    for _ in range(maxiter):
        score, info = reml_score(b, tau2, ref)
        step = score / info
        while tau2 + step < 0:
            step /= 2
        tau2 += step
        if abs(step) < threshold:
            return tau2
    raise ConvergenceError(f"REML for the network did not converge in {maxiter} iterations")


@dataclass(frozen=True)
class DesignFit:
    """Fit of one design's studies with the design's own effects."""

    q: float
    df: int
    R_trace_P: float


def design_fits(network: TreatmentNetwork, tau2: float = 0.0) -> dict[tuple[str, ...], DesignFit]:
    """Q, residual df and tr(RP) of every design with residual df > 0 (two or more studies),
    each design fitted on its own (reference: its first treatment in sorted order)."""
    members: dict[tuple[str, ...], list[StudyContrasts]] = {}
    for sc in network.studies:
        members.setdefault(sc.design, []).append(sc)
    by_arms: dict[int, list[tuple[str, ...]]] = {}
    for design, studies in members.items():
        if len(studies) > 1:
            by_arms.setdefault(len(design), []).append(design)
    out: dict[tuple[str, ...], DesignFit] = {}
    for p, designs in by_arms.items():
        k = p - 1
        studies = [sc for design in designs for sc in members[design]]
        counts = np.array([len(members[design]) for design in designs])
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        of = np.repeat(np.arange(len(designs)), counts)
        # Each arm's position in its design; column 0 (the design's reference) is dropped.
        pos = np.array([[design.index(t) for t in sc.treatments]
                        for design in designs for sc in members[design]])
        X = np.zeros((len(studies), k, p))
        s, rows = np.arange(len(studies))[:, None], np.arange(k)
        X[s, rows, pos[:, 1:]] += 1.0
        X[s, rows, pos[:, :1]] -= 1.0
        X = X[:, :, 1:]
        Xt = X.transpose(0, 2, 1)
        y = np.stack([sc.te[1:, 0] for sc in studies])[:, :, None]
        P = _p_block(k)
        W = _inv(_reduce(np.stack([sc.var for sc in studies])) + tau2 * P)
        WX = W @ X
        A = _inv(np.add.reduceat(Xt @ WX, first))
        beta = A @ np.add.reduceat(Xt @ (W @ y), first)
        r = y - X @ beta[of]
        q = np.add.reduceat((r * (W @ r)).sum(axis=(1, 2)), first)
        trace_wp = np.add.reduceat(np.einsum("nij,ji->n", W, P), first)
        xwpwx = np.add.reduceat(WX.transpose(0, 2, 1) @ (P @ WX), first)
        tr = trace_wp - np.einsum("dij,dji->d", A, xwpwx)
        for i, design in enumerate(designs):
            out[design] = DesignFit(float(q[i]), int(counts[i] * k - k), float(tr[i]))
    return {design: out[design] for design in members if design in out}
