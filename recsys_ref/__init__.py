"""Reference implementation for the Recommender Systems course.

Modules, one concern each:

- :mod:`recsys_ref.data`: MovieLens 100K loading, the seed notebook's CSV files,
  dense tensors, train/test splits and synthetic data.
- :mod:`recsys_ref.mf`: dense matrix factorization (the seed's model, done right)
  and :class:`~recsys_ref.mf.BiasedMF`.
- :mod:`recsys_ref.nn`: :class:`~recsys_ref.nn.RecommenderNet`, the deep embedding network.
- :mod:`recsys_ref.training`: training loops for RecommenderNet.
- :mod:`recsys_ref.baselines`: global mean and bias baselines.
- :mod:`recsys_ref.metrics`: RMSE, MAE, accuracy within 0.5 and ranking metrics.
- :mod:`recsys_ref.paradigms`: small recommenders for the four paradigms
  (collaborative, content-based, social/demographic, contextual).
- :mod:`recsys_ref.grading`: the checks the exercises' hidden tests call.
"""

__version__ = "0.1.0"
