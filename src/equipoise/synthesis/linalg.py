"""Batched weighted least squares and the traces the tau² estimators need.

For weights w, P = W - W X (X'WX)^-1 X'W. With r = y - X b (the weighted fit's residuals),
y'Py = sum(w r²) and y'PPy = sum(w² r²); the traces follow from P x P algebra without forming
the K x K matrix P.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equipoise.synthesis.batch import Float, MetaBatch


@dataclass(frozen=True, eq=False)
class WeightedFit:
    """A batched weighted least-squares fit."""

    w: Float        # (B, K) weights, zero on padding
    A: Float        # (B, P, P) = (X'WX)^-1
    beta: Float     # (B, P)
    r: Float        # (B, K) residuals, zero on padding

    @property
    def rss(self) -> Float:
        """y'Py = sum w r²."""
        return np.asarray(np.einsum("bk,bk->b", self.w, self.r * self.r))

    @property
    def rss2(self) -> Float:
        """y'PPy = sum w² r²."""
        wr = self.w * self.r
        return np.asarray(np.einsum("bk,bk->b", wr, wr))


def fit(batch: MetaBatch, w: Float) -> WeightedFit:
    """Weighted least squares of y on X in every analysis of the batch."""
    w = np.where(batch.mask, w, 0.0)
    Xw = batch.X * w[:, :, None]
    A = np.linalg.inv(np.einsum("bkp,bkq->bpq", Xw, batch.X))
    beta = np.einsum("bpq,bq->bp", A, np.einsum("bkp,bk->bp", Xw, batch.y))
    r = np.where(batch.mask, batch.y - np.einsum("bkp,bp->bk", batch.X, beta), 0.0)
    return WeightedFit(w, A, beta, r)


def _xtdx(batch: MetaBatch, d: Float) -> Float:
    """X' diag(d) X for each analysis."""
    return np.asarray(np.einsum("bkp,bk,bkq->bpq", batch.X, d, batch.X))


def trace_p(batch: MetaBatch, f: WeightedFit) -> Float:
    """tr(P) = sum w - tr(A X'W²X)."""
    return np.asarray(f.w.sum(axis=1) - np.einsum("bpq,bqp->b", f.A, _xtdx(batch, f.w**2)))


def trace_pp(batch: MetaBatch, f: WeightedFit) -> Float:
    """tr(PP) = sum w² - 2 tr(A X'W³X) + tr((A X'W²X)²)."""
    m2 = np.einsum("bpq,bqr->bpr", f.A, _xtdx(batch, f.w**2))
    return np.asarray((f.w**2).sum(axis=1)
                      - 2.0 * np.einsum("bpq,bqp->b", f.A, _xtdx(batch, f.w**3))
                      + np.einsum("bpq,bqp->b", m2, m2))


def p_matrix(batch: MetaBatch, f: WeightedFit) -> Float:
    """The K x K matrix P for each analysis (memory B*K*K; used only for standard errors)."""
    WX = batch.X * f.w[:, :, None]
    P = -np.einsum("bkp,bpq,blq->bkl", WX, f.A, WX)
    idx = np.arange(batch.y.shape[1])
    P[:, idx, idx] += f.w
    return np.asarray(P)
