"""The small recommenders of recsys_ref.paradigms, on hand-made frames (plus two checks on MovieLens 100K)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from recsys_ref.data import GENRES
from recsys_ref.paradigms import (
    Peers,
    content_similar_items,
    damped_item_means,
    demographic_peers,
    demographic_recommend,
    item_item_neighbours,
    popular_items,
    recency_popular_items,
    recommend_from_peers,
    taste_neighbours,
    user_profile_recommend,
    with_titles,
)

DAY = 86_400


def ratings_frame(
    rows: list[tuple[int, int, int]], timestamps: list[int] | None = None
) -> pd.DataFrame:
    """A ratings frame from (user, item, rating) triples; timestamps default to 0, 1, 2, ..."""
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"]).astype("int64")
    frame["timestamp"] = np.arange(len(frame), dtype=np.int64) if timestamps is None else timestamps
    return frame


def items_frame(spec: dict[int, tuple[str, tuple[str, ...], int | None]]) -> pd.DataFrame:
    """An items frame like recsys_ref.data's: item_id -> (title, genres, release year or None)."""
    frame = pd.DataFrame(
        {
            "title": [title for title, _, _ in spec.values()],
            "release_year": pd.array([year for _, _, year in spec.values()], dtype="Int64"),
            "genres": [genres for _, genres, _ in spec.values()],
        },
        index=pd.Index(list(spec), name="item_id"),
    )
    for genre in GENRES:
        frame[genre] = [int(genre in genres) for genres in frame["genres"]]
    return frame


@pytest.fixture
def co_rated() -> pd.DataFrame:
    """Six users rate items 1..4. Item 2 copies item 1, item 3 mirrors it, item 4 is noise.

    Every user also rates item 9 with 3, so user means differ from the ratings
    of items 1..3 and the centred values are not all zero.
    """
    item1 = [5, 4, 1, 2, 5, 1]
    item4 = [3, 3, 4, 2, 1, 5]
    rows = []
    for user, (a, d) in enumerate(zip(item1, item4), start=1):
        rows += [(user, 1, a), (user, 2, a), (user, 3, 6 - a), (user, 4, d), (user, 9, 3)]
    return ratings_frame(rows)


# --- popular items and damped means ------------------------------------------------


def test_damped_mean_matches_the_formula():
    ratings = ratings_frame([(1, 10, 5), (2, 20, 4), (3, 20, 2), (4, 20, 3)])
    mu = 14 / 4

    table = damped_item_means(ratings, damping=2.0)

    assert table.loc[10, "score"] == pytest.approx((5 + 2 * mu) / (1 + 2))
    assert table.loc[20, "score"] == pytest.approx((9 + 2 * mu) / (3 + 2))
    assert table.loc[20, "n_ratings"] == 3
    assert table.loc[20, "mean_rating"] == pytest.approx(3.0)


def test_damping_stops_a_single_five_star_rating_from_winning():
    """Item 1: one 5. Item 2: forty ratings averaging 4.5. Item 3: forty 2s (pulls the global mean down)."""
    rows = [(1, 1, 5)]
    rows += [(u, 2, 5 if u % 2 else 4) for u in range(2, 42)]
    rows += [(u, 3, 2) for u in range(2, 42)]
    ratings = ratings_frame(rows)

    assert popular_items(ratings, k=1, damping=0.0)["item_id"].tolist() == [1]
    assert popular_items(ratings, k=1, damping=5.0)["item_id"].tolist() == [2]


def test_popular_items_min_ratings_exclude_and_columns():
    ratings = ratings_frame([(1, 1, 5), (1, 2, 4), (2, 2, 4), (1, 3, 3), (2, 3, 3), (3, 3, 3)])

    top = popular_items(ratings, k=5, damping=1.0, min_ratings=2, exclude_items=[2])

    assert top["item_id"].tolist() == [3]
    assert list(top.columns) == ["item_id", "n_ratings", "mean_rating", "score"]
    assert top.index.tolist() == [0]


def test_popular_items_breaks_ties_by_count_then_id():
    ratings = ratings_frame([(1, 7, 4), (1, 5, 4), (2, 5, 4), (1, 3, 4)])

    assert popular_items(ratings, damping=0.0)["item_id"].tolist() == [5, 3, 7]


@pytest.mark.parametrize("bad", [{"k": 0}, {"k": 2.5}, {"damping": -1.0}, {"min_ratings": 0}])
def test_popular_items_rejects_bad_arguments(bad):
    ratings = ratings_frame([(1, 1, 5)])

    with pytest.raises(ValueError, match=next(iter(bad))):
        popular_items(ratings, **bad)


def test_missing_columns_and_empty_ratings_are_named():
    with pytest.raises(ValueError, match="'rating'"):
        popular_items(pd.DataFrame({"user_id": [1], "item_id": [1]}))
    with pytest.raises(ValueError, match="empty"):
        popular_items(ratings_frame([]))


# --- item-item collaborative filtering ----------------------------------------------


def test_identically_rated_item_is_the_top_neighbour(co_rated):
    neighbours = item_item_neighbours(co_rated, 1, k=10, min_common=3, shrinkage=0.0)

    assert neighbours["item_id"].iloc[0] == 2
    assert neighbours["similarity"].iloc[0] == pytest.approx(1.0)
    assert neighbours["n_common"].iloc[0] == 6
    assert neighbours["item_id"].iloc[-1] == 3  # the mirror image comes last
    assert neighbours["similarity"].iloc[-1] < -0.9
    assert 1 not in neighbours["item_id"].tolist()


def test_adjusted_cosine_matches_a_direct_computation(co_rated):
    wide = co_rated.pivot(index="user_id", columns="item_id", values="rating")
    centred = wide.sub(wide.mean(axis=1), axis=0)
    a, d = centred[1], centred[4]
    expected = (a * d).sum() / np.sqrt((a**2).sum() * (d**2).sum())

    neighbours = item_item_neighbours(co_rated, 1, min_common=1, shrinkage=0.0).set_index("item_id")

    assert neighbours.loc[4, "similarity"] == pytest.approx(expected)


def test_pearson_centres_by_item_mean(co_rated):
    wide = co_rated.pivot(index="user_id", columns="item_id", values="rating")
    expected = wide[1].corr(wide[4])

    neighbours = item_item_neighbours(co_rated, 1, min_common=1, shrinkage=0.0, method="pearson")

    assert neighbours.set_index("item_id").loc[4, "similarity"] == pytest.approx(expected)


def test_similarity_uses_only_common_raters():
    """Items 1 and 2 agree on users 1-3; user 4's rating of item 2 alone must not matter."""
    rows = [(1, 1, 5), (1, 2, 5), (2, 1, 1), (2, 2, 1), (3, 1, 3), (3, 2, 3), (4, 2, 1)]
    rows += [(u, 9, 3) for u in range(1, 5)]
    ratings = ratings_frame(rows)

    neighbours = item_item_neighbours(ratings, 1, min_common=1, shrinkage=0.0)

    row = neighbours.set_index("item_id").loc[2]
    assert row["n_common"] == 3
    assert row["similarity"] == pytest.approx(1.0)


def test_min_common_and_shrinkage(co_rated):
    # Item 5 agrees perfectly with item 1 but only on two users.
    extra = ratings_frame([(1, 5, 5), (3, 5, 1)])
    ratings = pd.concat([co_rated, extra], ignore_index=True)

    assert 5 not in item_item_neighbours(ratings, 1, min_common=3)["item_id"].tolist()
    unshrunk = item_item_neighbours(ratings, 1, min_common=2, shrinkage=0.0)
    shrunk = item_item_neighbours(ratings, 1, min_common=2, shrinkage=10.0)
    assert unshrunk["item_id"].iloc[:2].tolist() == [2, 5]  # tie at 1.0 broken by n_common
    assert shrunk.set_index("item_id").loc[5, "score"] == pytest.approx(1.0 * 2 / 12)
    assert shrunk.set_index("item_id").loc[2, "score"] == pytest.approx(1.0 * 6 / 16)


def test_no_shrinkage_and_no_common_raters_give_zero_without_warnings(co_rated):
    """Item 7 shares no rater with item 1: its score is 0 (not 0/0) even with shrinkage 0."""
    ratings = pd.concat([co_rated, ratings_frame([(99, 7, 4), (99, 8, 2)])], ignore_index=True)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        every = item_item_neighbours(ratings, 1, k=100, min_common=1, shrinkage=0.0)
        everyone = taste_neighbours(ratings, 1, k=100, min_common=1, shrinkage=0.0)

    assert 7 not in every["item_id"].tolist()  # 0 common raters < min_common
    assert np.isfinite(every["score"]).all() and np.isfinite(everyone["score"]).all()
    assert 99 not in everyone["user_id"].tolist()


def test_neighbours_do_not_depend_on_row_order(co_rated):
    shuffled = co_rated.sample(frac=1.0, random_state=1)

    pd.testing.assert_frame_equal(
        item_item_neighbours(co_rated, 1, min_common=1),
        item_item_neighbours(shuffled, 1, min_common=1),
    )


def test_unknown_item_raises_naming_it(co_rated):
    with pytest.raises(ValueError, match="item_id 12345 does not occur in the ratings"):
        item_item_neighbours(co_rated, 12345)
    with pytest.raises(ValueError, match="method"):
        item_item_neighbours(co_rated, 1, method="cosine")


# --- content-based -------------------------------------------------------------------


@pytest.fixture
def catalogue() -> pd.DataFrame:
    return items_frame(
        {
            1: ("Toy", ("Animation", "Children's", "Comedy"), 1995),
            2: ("Toy Again", ("Animation", "Children's", "Comedy"), 1995),
            3: ("Old Cartoon", ("Animation", "Children's", "Comedy"), 1940),
            4: ("Space", ("Sci-Fi", "Action"), 1995),
            5: ("Cartoon, no year", ("Animation", "Children's"), None),
            6: ("Space Too", ("Sci-Fi",), 1996),
            7: ("No genre", (), 1995),
        }
    )


def test_same_genres_and_year_is_the_most_similar(catalogue):
    similar = content_similar_items(catalogue, 1, k=10)

    assert similar["item_id"].tolist()[:2] == [2, 3]
    assert similar["genre_similarity"].iloc[0] == pytest.approx(1.0)
    assert similar["score"].iloc[0] == pytest.approx(1.0)
    assert 1 not in similar["item_id"].tolist()


def test_year_weight_zero_ignores_the_year(catalogue):
    similar = content_similar_items(catalogue, 1, year_weight=0.0).set_index("item_id")

    assert similar.loc[2, "score"] == similar.loc[3, "score"] == pytest.approx(1.0)
    assert similar.loc[4, "score"] == pytest.approx(0.0)


def test_missing_year_or_genres_contribute_zero(catalogue):
    similar = content_similar_items(catalogue, 1, year_weight=0.5).set_index("item_id")

    assert similar.loc[5, "year_similarity"] == 0.0
    assert similar.loc[5, "genre_similarity"] == pytest.approx(2 / np.sqrt(6))
    assert similar.loc[7, "genre_similarity"] == 0.0
    assert similar.loc[7, "score"] == pytest.approx(0.5)


def test_content_similarity_rejects_unknown_item_and_bad_weights(catalogue):
    with pytest.raises(ValueError, match="item_id 99 is not in items"):
        content_similar_items(catalogue, 99)
    with pytest.raises(ValueError, match="year_weight"):
        content_similar_items(catalogue, 1, year_weight=1.5)
    with pytest.raises(ValueError, match="year_scale"):
        content_similar_items(catalogue, 1, year_scale=0)


def test_profile_recommends_unrated_items_of_liked_genres_even_new_ones(catalogue):
    """User 1 loved the Sci-Fi film 4 and disliked the cartoon 2; item 6 (Sci-Fi) has no ratings at all."""
    ratings = ratings_frame([(1, 4, 5), (1, 2, 1), (2, 1, 4), (2, 3, 4)])

    recommended = user_profile_recommend(ratings, catalogue, 1, k=3, year_weight=0.0)

    assert recommended["item_id"].iloc[0] == 6
    assert not {2, 4} & set(recommended["item_id"])


def test_profile_errors_name_the_user(catalogue):
    ratings = ratings_frame([(1, 4, 2), (2, 99, 5)])

    with pytest.raises(ValueError, match="user_id 3 has no ratings"):
        user_profile_recommend(ratings, catalogue, 3)
    with pytest.raises(ValueError, match="user_id 1 rated nothing 4 or higher"):
        user_profile_recommend(ratings, catalogue, 1)
    with pytest.raises(ValueError, match="item_id 99, rated by user 2, is not in items"):
        user_profile_recommend(ratings, catalogue, 2)


# --- social stand-in: taste neighbours and peers ------------------------------------------


def test_user_with_the_same_taste_is_the_top_neighbour():
    base = [5, 1, 4, 2, 3]
    rows = [(1, i, r) for i, r in enumerate(base, start=1)]
    rows += [(2, i, r) for i, r in enumerate(base, start=1)]  # same taste
    rows += [(3, i, 6 - r) for i, r in enumerate(base, start=1)]  # opposite taste
    rows += [(4, i, 3) for i in range(1, 6)]  # no opinion: similarity undefined -> 0
    ratings = ratings_frame(rows)

    neighbours = taste_neighbours(ratings, 1, min_common=3, shrinkage=0.0)

    assert neighbours["user_id"].tolist() == [2, 4, 3]
    assert neighbours["similarity"].tolist() == pytest.approx([1.0, 0.0, -1.0])
    with pytest.raises(ValueError, match="user_id 77 does not occur in the ratings"):
        taste_neighbours(ratings, 77)


def test_only_the_peers_ratings_count():
    ratings = ratings_frame([(1, 1, 5), (2, 1, 5), (3, 2, 5), (4, 2, 5), (4, 3, 1), (5, 3, 1)])

    top = recommend_from_peers(ratings, [3, 4], damping=0.0)

    assert top["item_id"].tolist() == [2, 3]
    assert top["n_ratings"].tolist() == [2, 1]


def test_peer_scores_are_damped_towards_the_global_mean():
    ratings = ratings_frame([(1, 1, 5), (2, 2, 1), (3, 2, 1), (4, 2, 1)])  # global mean 2

    top = recommend_from_peers(ratings, [1], damping=3.0)

    assert top["score"].iloc[0] == pytest.approx((5 + 3 * 2.0) / (1 + 3))


def test_peers_without_ratings_raise():
    with pytest.raises(ValueError, match="none of the peer_ids has a rating"):
        recommend_from_peers(ratings_frame([(1, 1, 5)]), [2, 3])


# --- demographic ----------------------------------------------------------------------------


@pytest.fixture
def people() -> pd.DataFrame:
    """Ten users: four young female students, three young men, three older people."""
    return pd.DataFrame(
        {
            "age": [24, 26, 22, 29, 25, 23, 27, 60, 62, 58],
            "gender": ["F", "F", "F", "F", "M", "M", "M", "F", "M", "M"],
            "occupation": ["student"] * 4
            + ["student", "engineer", "writer", "retired", "retired", "doctor"],
        },
        index=pd.Index(range(1, 11), name="user_id"),
    )


def test_demographic_peers_match_all_criteria(people):
    peers = demographic_peers(people, age=25, gender="F", occupation="student", min_peers=2)

    assert isinstance(peers, Peers)
    assert peers.user_ids.tolist() == [1, 2, 3, 4]
    assert peers.criteria == "gender F, age 20-30, occupation student"


def test_demographic_peers_relax_occupation_then_gender(people):
    # No female writer aged 20-30, but four women of that age.
    by_gender = demographic_peers(people, age=25, gender="F", occupation="writer", min_peers=2)
    # One retired woman aged 55-65 (too few for 3), still one woman: only the age band is left.
    by_age = demographic_peers(people, age=60, gender="F", occupation="retired", min_peers=3)

    assert by_gender.criteria == "gender F, age 20-30"
    assert by_gender.user_ids.tolist() == [1, 2, 3, 4]
    assert by_age.criteria == "age 55-65"
    assert by_age.user_ids.tolist() == [8, 9, 10]


def test_demographic_peers_errors(people):
    with pytest.raises(ValueError, match="gender 'X' does not occur in users; known: F, M"):
        demographic_peers(people, age=25, gender="X")
    with pytest.raises(ValueError, match="occupation 'pilot' does not occur"):
        demographic_peers(people, age=25, occupation="pilot")
    with pytest.raises(ValueError, match="no user is in the age 90-100"):
        demographic_peers(people, age=95)
    with pytest.raises(ValueError, match="age"):
        demographic_peers(people, age=0)


def test_cold_start_user_gets_recommendations_from_look_alikes(people):
    """Young female students love item 1; the older users love item 2."""
    rows = [(u, 1, 5) for u in (1, 2, 3, 4)] + [(u, 2, 1) for u in (1, 2, 3, 4)]
    rows += [(u, 2, 5) for u in (8, 9, 10)] + [(u, 1, 1) for u in (8, 9, 10)]
    ratings = ratings_frame(rows)

    young = demographic_recommend(
        ratings, people, age=25, gender="F", occupation="student", min_peers=2, damping=1.0
    )
    old = demographic_recommend(ratings, people, age=60, min_peers=2, damping=1.0)

    assert young["item_id"].tolist() == [1, 2]
    assert old["item_id"].tolist() == [2, 1]


# --- contextual: time -------------------------------------------------------------------------


@pytest.fixture
def timed() -> pd.DataFrame:
    """Item 1: ten ratings 100 days before day 200. Item 2: four ratings 2 days before. Item 3: after day 200."""
    rows = (
        [(u, 1, 4) for u in range(10)]
        + [(u, 2, 4) for u in range(4)]
        + [(u, 3, 5) for u in range(20)]
    )
    times = [100 * DAY] * 10 + [198 * DAY] * 4 + [250 * DAY] * 20
    return ratings_frame(rows, timestamps=times)


def test_recency_favours_what_is_popular_now(timed):
    all_time = recency_popular_items(timed, at=200 * DAY, half_life_days=None)
    recent = recency_popular_items(timed, at=200 * DAY, half_life_days=7.0)

    assert all_time["item_id"].tolist() == [1, 2]
    assert all_time["score"].tolist() == [10.0, 4.0]
    assert recent["item_id"].tolist() == [2, 1]
    assert recent.set_index("item_id").loc[2, "score"] == pytest.approx(4 * 0.5 ** (2 / 7))


def test_recency_ignores_the_future_and_accepts_dates(timed):
    at = pd.Timestamp(200 * DAY, unit="s")

    by_date = recency_popular_items(timed, at=str(at.date()), half_life_days=30.0)
    by_stamp = recency_popular_items(timed, at=at, half_life_days=30.0)

    assert 3 not in by_date["item_id"].tolist()
    pd.testing.assert_frame_equal(by_date, by_stamp)


def test_recency_min_rating_exclude_and_errors(timed):
    assert recency_popular_items(timed, at=300 * DAY, min_rating=5)["item_id"].tolist() == [3]
    assert recency_popular_items(timed, at=300 * DAY, exclude_items=[3])["item_id"].tolist() == [
        2,
        1,
    ]
    with pytest.raises(ValueError, match="no rating counts before 1970-01-02"):
        recency_popular_items(timed, at=DAY)
    with pytest.raises(ValueError, match="half_life_days"):
        recency_popular_items(timed, at=300 * DAY, half_life_days=0.0)
    with pytest.raises(ValueError, match="timestamp"):
        recency_popular_items(timed.drop(columns="timestamp"), at=300 * DAY)


# --- presentation ---------------------------------------------------------------------------------


def test_with_titles_inserts_after_item_id(catalogue):
    frame = pd.DataFrame({"item_id": [2, 4], "score": [0.5, 0.1]})

    out = with_titles(frame, catalogue, columns=["title", "release_year"])

    assert list(out.columns) == ["item_id", "title", "release_year", "score"]
    assert out["title"].tolist() == ["Toy Again", "Space"]
    assert list(frame.columns) == ["item_id", "score"]  # the input is not changed
    with pytest.raises(ValueError, match="item_id 42 is not in items"):
        with_titles(pd.DataFrame({"item_id": [42]}), catalogue)


# --- MovieLens 100K ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def movielens():
    from recsys_ref.data import load_movielens_100k

    return load_movielens_100k(report=None)


@pytest.mark.movielens
def test_star_wars_neighbours_are_its_sequels(movielens):
    neighbours = item_item_neighbours(movielens.ratings, 50, k=5)

    assert {172, 181} <= set(neighbours["item_id"])  # The Empire Strikes Back, Return of the Jedi


@pytest.mark.movielens
def test_titanic_is_the_most_popular_film_in_april_1998_but_not_all_time(movielens):
    recent = recency_popular_items(movielens.ratings, at="1998-04-01", half_life_days=30.0, k=1)
    all_time = recency_popular_items(movielens.ratings, at="1998-04-01", half_life_days=None, k=1)

    assert recent["item_id"].tolist() == [313]
    assert all_time["item_id"].tolist() == [50]
