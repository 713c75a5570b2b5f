"""Small recommenders for the four paradigms of the book's chapter "Four paradigms of recommendation".

Each paradigm has a module. Its functions take pandas frames with the column
names of :mod:`recsys_ref.data` (``ratings``: ``user_id``, ``item_id``,
``rating``, ``timestamp``; ``items`` indexed by ``item_id`` with one 0/1
column per genre in :data:`~recsys_ref.data.GENRES` and ``release_year``;
``users`` indexed by ``user_id`` with ``age``, ``gender``, ``occupation``) and
return a new frame, best first, ties broken by id, so results are
deterministic; nothing is random and nothing is cached. Its predictor is a
:class:`~recsys_ref.base.RatingPredictor` (``fit`` / ``predict`` /
``score_items``), so each paradigm can be scored in the same rating and
ranking tables as the other models.

=========================  ================================================  ==========================
paradigm                   lists                                             predictor
=========================  ================================================  ==========================
Non-personalised baseline  :func:`popular_items`, :func:`damped_item_means`  (:class:`RecencyPopularity`
                                                                             with no decay)
Collaborative filtering    :func:`item_item_neighbours` (Sarwar et al. 2001)  :class:`ItemKNN`
Content-based              :func:`content_similar_items`,                    :class:`ContentKNN`
                           :func:`user_profile_recommend`
Social (stand-in)          :func:`taste_neighbours` + :func:`recommend_from_peers`
Demographic                :func:`demographic_peers`, :func:`demographic_recommend`  :class:`DemographicMeans`
Contextual (time)          :func:`recency_popular_items`                     :class:`RecencyPopularity`
=========================  ================================================  ==========================

Modules: :mod:`~recsys_ref.paradigms.popularity`, :mod:`~recsys_ref.paradigms.neighbours`,
:mod:`~recsys_ref.paradigms.content`, :mod:`~recsys_ref.paradigms.demographic`,
:mod:`~recsys_ref.paradigms.contextual`, :mod:`~recsys_ref.paradigms.presentation`
(:func:`with_titles`); every name is importable from :mod:`recsys_ref.paradigms`.

Notation: :math:`r_{ui}` is user :math:`u`'s rating of item :math:`i`,
:math:`U_i` the users who rated item :math:`i`, :math:`I_u` the items user
:math:`u` rated, :math:`\\bar r_u` user :math:`u`'s mean rating and
:math:`\\mu` the mean of all ratings.

MovieLens 100K has no social graph (nobody's friends are known), so the
"social" functions here work with any set of users passed in as the friends;
the book feeds them *taste neighbours*, users whose past ratings resemble the
target user's, and says so.
"""

from recsys_ref.paradigms.content import ContentKNN, content_similar_items, user_profile_recommend
from recsys_ref.paradigms.contextual import (
    SECONDS_PER_DAY,
    RecencyPopularity,
    recency_popular_items,
)
from recsys_ref.paradigms.demographic import (
    DemographicMeans,
    Peers,
    demographic_peers,
    demographic_recommend,
    recommend_from_peers,
)
from recsys_ref.paradigms.neighbours import ItemKNN, item_item_neighbours, taste_neighbours
from recsys_ref.paradigms.popularity import damped_item_means, popular_items
from recsys_ref.paradigms.presentation import with_titles

__all__ = [
    "SECONDS_PER_DAY",
    "ContentKNN",
    "DemographicMeans",
    "ItemKNN",
    "Peers",
    "RecencyPopularity",
    "content_similar_items",
    "damped_item_means",
    "demographic_peers",
    "demographic_recommend",
    "item_item_neighbours",
    "popular_items",
    "recency_popular_items",
    "recommend_from_peers",
    "taste_neighbours",
    "user_profile_recommend",
    "with_titles",
]
