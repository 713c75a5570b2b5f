"""``python -m recsys_ref.data``: fetch, verify and cache MovieLens 100K, then summarise it."""

from recsys_ref.data import load_movielens_100k

if __name__ == "__main__":
    data = load_movielens_100k()
    density = len(data.ratings) / (data.n_users * data.n_items)
    print(
        f"MovieLens 100K OK: {len(data.ratings):,} ratings, {data.n_users} users, "
        f"{data.n_items:,} items, density {density:.1%} (from {data.source})"
    )
