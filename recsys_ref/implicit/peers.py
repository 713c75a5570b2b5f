"""The ``implicit`` library's ALS and BPR behind this package's contract, for comparisons.

``implicit`` (Frederickson, https://github.com/benfred/implicit) is a
well-kept C++/Cython implementation of both models. The tests and
``benchmarks/ranking.py`` train it on the same interaction matrix as the
reference models and evaluate it with the same
:func:`~recsys_ref.ranking.evaluate_ranking`, so that only the algorithms
differ. It is not a dependency of :mod:`recsys_ref`: install it with the
``test`` extra (``pip install -e ".[test]"``).

Conventions of ``implicit`` 0.7 worth knowing when comparing:

- Its ALS confidence is :math:`c_{ui} = \\alpha_{\\text{implicit}} X_{ui}`
  for an observed cell and 1 for the others, so its default
  :math:`\\alpha_{\\text{implicit}} = 1` gives interactions *no* extra
  weight. Our :math:`c_{ui} = 1 + \\alpha X_{ui}` is the same model with
  :math:`\\alpha_{\\text{implicit}} = 1 + \\alpha`. Its default solver is
  three conjugate-gradient steps per row (``use_cg=True``), its default
  :math:`\\lambda` is 0.01 and its initial factors are uniform on [0, 0.01).
- Its BPR learns an item bias as an extra factor, uses Hogwild SGD over all
  cores, draws negatives uniformly from all items and redraws those the user
  interacted with (``verify_negative_samples=True``).

Unknown users get the same popularity fallback as the reference models.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_ref.implicit.recommender import ImplicitRecommender


def _implicit():
    try:
        import implicit.cpu.als
        import implicit.cpu.bpr
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the peer models need the `implicit` library: pip install implicit (or the project's test extra)"
        ) from error
    return implicit


class _Peer(ImplicitRecommender):
    def __init__(
        self, *, threshold: float | None = 4.0, seed: int = 0, n_threads: int = 0, **options
    ) -> None:
        super().__init__(threshold=threshold)
        self.seed = seed
        self.n_threads = n_threads
        self.options = options

    def _fit(self, interactions: sp.csr_matrix) -> None:
        from threadpoolctl import threadpool_limits

        # implicit parallelises with OpenMP itself; a multi-threaded BLAS underneath only
        # competes (and its constructor warns about it).
        with threadpool_limits(1, "blas"):
            self.model = self._make(_implicit())
            self.model.fit(interactions, show_progress=False)

    def _make(self, library):
        raise NotImplementedError

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        user_factors = np.asarray(self.model.user_factors, dtype=np.float64)
        item_factors = np.asarray(self.model.item_factors, dtype=np.float64)
        return user_factors[rows] @ item_factors.T


class ImplicitLibraryALS(_Peer):
    """``implicit.cpu.als.AlternatingLeastSquares`` (defaults but ``factors``), as a recommender.

    Args:
        factors: Latent factors (the library's default is 100; the issue's
            reference figure used 64).
        threshold: Which ratings are interactions, as for the reference models.
        seed: ``random_state`` of the library.
        n_threads: OpenMP threads (0 = all cores, the library's default).
        options: Any other keyword of the library's constructor
            (``regularization``, ``alpha``, ``iterations``, ``use_cg``, ...).
    """

    def __init__(
        self,
        *,
        factors: int = 64,
        threshold: float | None = 4.0,
        seed: int = 0,
        n_threads: int = 0,
        **options,
    ):
        super().__init__(threshold=threshold, seed=seed, n_threads=n_threads, factors=factors, **options)

    def _make(self, library):
        return library.cpu.als.AlternatingLeastSquares(
            random_state=self.seed, num_threads=self.n_threads, **self.options
        )


class ImplicitLibraryBPR(_Peer):
    """``implicit.cpu.bpr.BayesianPersonalizedRanking`` with the library's defaults, as a recommender.

    Defaults of ``implicit`` 0.7: 100 factors (+1 for the item bias), learning
    rate 0.01, :math:`\\lambda` = 0.01, 100 iterations. Arguments as
    :class:`ImplicitLibraryALS`.
    """

    def _make(self, library):
        return library.cpu.bpr.BayesianPersonalizedRanking(
            random_state=self.seed, num_threads=self.n_threads, **self.options
        )
