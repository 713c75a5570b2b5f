"""Alias of :mod:`recsys_ref.nn_training`, kept because the released notebooks import this name."""
from recsys_ref.nn_training import TrainingHistory, predict_ratings, ratings_to_tensors, train_recommender_net  # noqa: F401
