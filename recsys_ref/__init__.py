"""Reference implementation for the Recommender Systems course.

Modules, one concern each (the id conventions are stated once, in :mod:`recsys_ref.base`):

- :mod:`recsys_ref.data`: every MovieLens release (100K by default), the original
  notebook's CSV files, dense tensors, train/test splits and synthetic data.
- :mod:`recsys_ref.base`: the contract every rating predictor follows
  (:class:`~recsys_ref.base.RatingPredictor`: fit, predict, score items).
- :mod:`recsys_ref.baselines`: global mean and bias baselines.
- :mod:`recsys_ref.mf`: dense matrix factorization (the original notebook's model,
  done right) and :class:`~recsys_ref.mf.BiasedMF`.
- :mod:`recsys_ref.nn` and :mod:`recsys_ref.nn_training`:
  :class:`~recsys_ref.nn.RecommenderNet`, the deep embedding network, and its training.
  ``recsys_ref.training`` is :mod:`recsys_ref.nn_training` under the name the released
  deep notebook imports (``from recsys_ref.training import train_recommender_net``): the
  same objects (:func:`~recsys_ref.nn_training.train_recommender_net`,
  :func:`~recsys_ref.nn_training.predict_ratings`,
  :func:`~recsys_ref.nn_training.ratings_to_tensors`,
  :class:`~recsys_ref.nn_training.TrainingHistory`), kept so those notebooks run unchanged.
- :mod:`recsys_ref.paradigms`: recommenders for the four paradigms (collaborative,
  content-based, social/demographic, contextual).
- :mod:`recsys_ref.implicit`: ranking from implicit feedback (interactions,
  negative sampling, BPR-MF, iALS, item-kNN, popularity).
- :mod:`recsys_ref.ranking`: top-K lists and full-ranking evaluation.
- :mod:`recsys_ref.metrics`: rating, ranking and beyond-accuracy metrics.
- :mod:`recsys_ref.grading`: what runs in a student's kernel while an assignment is
  graded (the recorders); the grading engine itself is the separate package ``grader``.

The original notebook's code, bugs included, lives outside this package, in
``original_notebook``.
"""

__version__ = "0.1.0"
