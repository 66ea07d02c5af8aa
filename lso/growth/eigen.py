"""Extreme eigenpairs of many small symmetric matrices known only through products ``S v``.

Block Lanczos with block size 2 and thick restarts, batched over ``n`` matrices: the subspace starts from two random
vectors, grows by the (orthogonalised) images ``S Q`` of its newest block, and the Rayleigh-Ritz values of the
subspace give ``lambda_min`` and ``lambda_max`` together. When the subspace reaches ``max_subspace`` it restarts from
the two current Ritz vectors (``v_min``, ``v_max``), so memory stays ``O(n * max_subspace * d)``. Because the
subspace always contains the previous Ritz vectors, ``lambda_min`` never increases and ``lambda_max`` never
decreases from one step to the next (Courant-Fischer); this is Rayleigh-quotient descent on both ends with the best
step in a Krylov subspace instead of a fixed learning rate. When the subspace spans all ``d`` dimensions the answer
is exact. One step costs one batched product ``S V`` for ``V`` of shape ``[n, 2, d]``.

Every small eigendecomposition goes through ``finite_eigh``: batched float32 ``torch.linalg.eigh`` returns NaN for
some rank-deficient matrices on some CPUs (LAPACK's divide and conquer), so each matrix whose values or vectors come
back non-finite is diagonalised again in float64, then with a tiny diagonal shift; one that stays non-finite (its
input holds NaN/inf) is flagged, never silently passed on, and ``warn_nonfinite`` reports it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

MatVec = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True, eq=False)
class ExtremePairs:
    """``lambda_min, lambda_max``: ``[n]``; ``v_min, v_max``: ``[n, d]`` unit vectors; ``residual``: ``[n]`` the larger
    of ``||S v - lambda v||`` over the two pairs (0 when exact); ``products``: products ``S V`` spent."""

    lambda_min: torch.Tensor
    lambda_max: torch.Tensor
    v_min: torch.Tensor
    v_max: torch.Tensor
    residual: torch.Tensor
    products: int


def _orthonormalise_into(Q: torch.Tensor, new: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Gram-Schmidt (twice) of the columns of ``new`` [n, b, d] against ``Q`` [n, k, d] and each other; a column that
    vanishes (the Krylov space became invariant) is replaced by a random orthogonal direction."""
    n, b, d = new.shape
    tiny = 1e3 * torch.finfo(new.dtype).eps
    basis = Q
    cols = []
    for j in range(b):
        v = new[:, j]
        scale = v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(new.dtype).tiny)
        for attempt in range(2):
            for _ in range(2):
                if basis.shape[1]:
                    v = v - torch.einsum("nk,nkd->nd", torch.einsum("nkd,nd->nk", basis, v), basis)
            norm = v.norm(dim=1, keepdim=True)
            bad = norm < tiny * scale
            if not bad.any() or attempt == 1:
                break
            rnd = torch.randn(n, d, generator=generator, dtype=new.dtype, device="cpu").to(new.device)
            v = torch.where(bad, rnd, v)
            scale = torch.where(bad, rnd.norm(dim=1, keepdim=True), scale)
        v = v / v.norm(dim=1, keepdim=True).clamp_min(torch.finfo(new.dtype).tiny)
        cols.append(v)
        basis = torch.cat([basis, v[:, None]], dim=1)
    return torch.stack(cols, dim=1)


class NonFiniteEigenWarning(RuntimeWarning):
    """Eigenpairs that stayed NaN/inf after the float64 and shifted retries: those neurons are not split."""


def _finite_rows(vals: torch.Tensor, vecs: torch.Tensor) -> torch.Tensor:
    return torch.isfinite(vals).all(dim=-1) & torch.isfinite(vecs).flatten(-2).all(dim=-1)


def _eigh(S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.linalg.eigh``, with NaN in place of an error when LAPACK does not converge."""
    try:
        return torch.linalg.eigh(S)
    except RuntimeError:  # torch.linalg.LinAlgError: no convergence
        nan = torch.full(S.shape[:-1], float("nan"), dtype=S.dtype, device=S.device)
        return nan, torch.full_like(S, float("nan"))


def finite_eigh(S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eigenvalues ``[n, k]`` (ascending) and eigenvectors ``[n, k, k]`` (columns) of the symmetric part of ``S``
    ``[n, k, k]``, and ``bad`` ``[n]`` (bool): matrices whose pairs are still non-finite (their rows stay NaN).

    A matrix whose batched result is not finite is retried alone in float64, then in float64 with a diagonal shift of
    ``1e-12 * max|S|`` (the shift is taken off the eigenvalues again); results keep ``S``'s dtype."""
    S = 0.5 * (S + S.transpose(-1, -2))
    vals, vecs = _eigh(S)
    bad = ~_finite_rows(vals, vecs)
    if not bool(bad.any()):
        return vals, vecs, bad
    vals, vecs = vals.clone(), vecs.clone()
    for i in torch.nonzero(bad).flatten().tolist():
        m = S[i].double()
        if not bool(torch.isfinite(m).all()):
            continue  # NaN/inf in the matrix itself: nothing to retry
        v, V = _eigh(m)
        if not bool(_finite_rows(v, V)):
            shift = 1e-12 * float(m.abs().max().clamp_min(1e-300))
            v, V = _eigh(m + shift * torch.eye(m.shape[-1], dtype=m.dtype, device=m.device))
            v = v - shift
        if bool(_finite_rows(v, V)):
            vals[i], vecs[i] = v.to(vals.dtype), V.to(vecs.dtype)
            bad[i] = False
    vals[bad] = float("nan")
    vecs[bad] = float("nan")
    return vals, vecs, bad


def warn_nonfinite(site: str, neurons: Sequence[int]) -> None:
    """Report neurons of ``site`` whose eigenpairs are not finite (they stay as they are: no split)."""
    if len(neurons):
        shown = ", ".join(str(i) for i in list(neurons)[:10]) + (", ..." if len(neurons) > 10 else "")
        warnings.warn(f"{site}: the splitting matrices of neuron(s) {shown} have non-finite eigenpairs (NaN/inf in "
                      "their statistics); they are not split this round", NonFiniteEigenWarning, stacklevel=3)


def _ritz(Q: torch.Tensor, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rayleigh-Ritz on span(Q): eigenvalues ``[n, k]`` ascending and coefficient vectors ``[n, k, k]`` (columns)."""
    T = torch.einsum("nkd,nld->nkl", Q, W)
    vals, vecs, _ = finite_eigh(T)
    return vals, vecs


def extreme_eigenpairs(matvec: MatVec, n: int, d: int, *, steps: int = 16, max_subspace: int = 24,
                       dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu",
                       generator: torch.Generator | None = None) -> ExtremePairs:
    """``lambda_min``/``lambda_max`` and eigenvectors of ``n`` symmetric ``d x d`` matrices ``S``.

    Args:
        matvec: ``V [n, b, d] -> S V [n, b, d]`` (row ``j`` of ``V[i]`` multiplied by ``S_i``).
        n, d: number and size of the matrices.
        steps: at most this many products (each of a block of <= 2 vectors); stops early once exact.
        max_subspace: subspace size at which to restart from the two Ritz vectors (>= 4).
        generator: CPU ``torch.Generator`` for the random start (reproducible across devices).
    """
    max_subspace = max(4, max_subspace)
    block = min(2, d)
    start = torch.randn(n, block, d, generator=generator, dtype=dtype, device="cpu").to(device)
    Q = _orthonormalise_into(start[:, :0], start, generator)
    W = matvec(Q)
    products = 1
    while products < steps and Q.shape[1] < d:
        if Q.shape[1] + block > max_subspace:
            _, C = _ritz(Q, W)
            C = C[:, :, [0, -1]]
            Q, W = torch.einsum("nkr,nkd->nrd", C, Q), torch.einsum("nkr,nkd->nrd", C, W)
        b = min(block, d - Q.shape[1])
        new = _orthonormalise_into(Q, W[:, -b:], generator)
        Q = torch.cat([Q, new], dim=1)
        W = torch.cat([W, matvec(new)], dim=1)
        products += 1
    vals, C = _ritz(Q, W)
    v_min = torch.einsum("nk,nkd->nd", C[:, :, 0], Q)
    v_max = torch.einsum("nk,nkd->nd", C[:, :, -1], Q)
    s_min = torch.einsum("nk,nkd->nd", C[:, :, 0], W)
    s_max = torch.einsum("nk,nkd->nd", C[:, :, -1], W)
    lmin, lmax = vals[:, 0], vals[:, -1]
    residual = torch.maximum((s_min - lmin[:, None] * v_min).norm(dim=1), (s_max - lmax[:, None] * v_max).norm(dim=1))
    return ExtremePairs(lambda_min=lmin, lambda_max=lmax, v_min=v_min, v_max=v_max, residual=residual,
                        products=products)
