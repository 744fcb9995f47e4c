"""MetaBatch: one or many meta-analyses as padded arrays, validated once.

Uncertainty and repetition are array axes (DESIGN.md): a batch holds B analyses of up to K
studies each, with P moderators; padding is masked out. Every estimator works on batches, so
10,000 meta-analyses are one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equipoise.errors import ModelError

Float = NDArray[np.float64]
Bool = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class MetaBatch:
    """B meta-analyses of up to K studies with P columns of moderators (incl. intercept).

    Padding entries have ``mask`` False, ``y`` 0, ``v`` 1 and zero rows of ``X``.
    """

    y: Float          # (B, K)
    v: Float          # (B, K)
    mask: Bool        # (B, K)
    X: Float          # (B, K, P)
    study: tuple[tuple[str, ...], ...] = field(default=())   # labels per analysis

    @property
    def k(self) -> NDArray[np.int64]:
        """Number of studies in each analysis."""
        return np.asarray(self.mask.sum(axis=1), dtype=np.int64)

    @property
    def p(self) -> int:
        return int(self.X.shape[2])

    @property
    def size(self) -> int:
        return int(self.y.shape[0])

    @classmethod
    def from_arrays(cls, yi: ArrayLike, vi: ArrayLike, mods: ArrayLike | None = None, *,
                    study: Sequence[str] | None = None, intercept: bool = True) -> MetaBatch:
        """One meta-analysis from effect sizes ``yi``, variances ``vi`` and optional moderators."""
        y = np.asarray(yi, dtype=np.float64).reshape(-1)
        v = np.asarray(vi, dtype=np.float64).reshape(-1)
        k = y.shape[0]
        labels = tuple(study) if study is not None else tuple(str(i + 1) for i in range(k))
        if v.shape[0] != k or len(labels) != k:
            raise ModelError(f"yi has {k} values but vi has {v.shape[0]} and study labels "
                             f"{len(labels)}")
        cols = [np.ones(k)] if intercept else []
        if mods is not None:
            m = np.asarray(mods, dtype=np.float64)
            m = m.reshape(k, -1) if m.ndim == 1 or m.shape[0] == k else m.T
            cols += [m[:, j] for j in range(m.shape[1])]
        if not cols:
            raise ModelError("a model needs an intercept or at least one moderator")
        X = np.stack(cols, axis=1)
        batch = cls(y[None, :], v[None, :], np.ones((1, k), dtype=bool), X[None, :, :],
                    (labels,))
        batch.validate()
        return batch

    @classmethod
    def from_groups(cls, groups: Sequence[tuple[ArrayLike, ArrayLike]]) -> MetaBatch:
        """Many intercept-only meta-analyses of different sizes, padded to the largest."""
        if not groups:
            raise ModelError("no meta-analyses given")
        ys = [np.asarray(g[0], dtype=np.float64).reshape(-1) for g in groups]
        vs = [np.asarray(g[1], dtype=np.float64).reshape(-1) for g in groups]
        K = max(len(y) for y in ys)
        B = len(ys)
        y = np.zeros((B, K))
        v = np.ones((B, K))
        mask = np.zeros((B, K), dtype=bool)
        for b, (yy, vv) in enumerate(zip(ys, vs, strict=True)):
            if len(yy) != len(vv):
                raise ModelError(f"analysis {b}: {len(yy)} effect sizes but {len(vv)} variances")
            y[b, : len(yy)], v[b, : len(vv)], mask[b, : len(yy)] = yy, vv, True
        batch = cls(y, v, mask, mask[:, :, None].astype(np.float64))
        batch.validate()
        return batch

    @classmethod
    def from_matrix(cls, y: ArrayLike, v: ArrayLike, mask: ArrayLike | None = None) -> MetaBatch:
        """Intercept-only analyses from (B, K) arrays (``mask`` marks the studies present)."""
        yy = np.atleast_2d(np.asarray(y, dtype=np.float64))
        vv = np.atleast_2d(np.asarray(v, dtype=np.float64))
        m = np.ones(yy.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        yy = np.where(m, yy, 0.0)
        vv = np.where(m, vv, 1.0)
        batch = cls(yy, vv, m, m[:, :, None].astype(np.float64))
        batch.validate()
        return batch

    def rows(self, start: int, stop: int) -> MetaBatch:
        """Analyses ``start:stop`` as a smaller batch (no copy of the data)."""
        study = self.study[start:stop] if self.study else ()
        return MetaBatch(self.y[start:stop], self.v[start:stop], self.mask[start:stop],
                         self.X[start:stop], study)

    def label(self, b: int, i: int) -> str:
        if self.study and b < len(self.study) and i < len(self.study[b]):
            return self.study[b][i]
        return str(i + 1) if self.size == 1 else f"{i + 1} of analysis {b}"

    def validate(self) -> None:
        """Raise :class:`ModelError` naming the study for non-finite or non-positive input."""
        bad_y = self.mask & ~np.isfinite(self.y)
        bad_v = self.mask & ~(np.isfinite(self.v) & (self.v > 0))
        for what, bad, values in (("effect size yi is not finite", bad_y, self.y),
                                  ("sampling variance vi must be positive", bad_v, self.v)):
            if bad.any():
                b, i = (int(x) for x in np.argwhere(bad)[0])
                got = float(values[b, i])
                raise ModelError(f"study {self.label(b, i)!r}: {what} (got {got!r})")
        if (self.k < 1).any():
            raise ModelError(f"analysis {int(np.argmin(self.k))} has no studies")
        xtx = np.einsum("bkp,bkq->bpq", self.X, self.X)
        rank = np.linalg.matrix_rank(xtx)
        if (rank < self.p).any():
            b = int(np.argmax(rank < self.p))
            raise ModelError(f"analysis {b}: the moderators are collinear (model matrix not of "
                             "full rank)")
