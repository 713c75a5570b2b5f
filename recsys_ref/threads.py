"""Thread settings for small models.

The models here run many small tensor operations (mini-batches of a few
hundred ratings). PyTorch splits each across all cores, and the hand-offs
cost more than the work: on 2 shared cores, BiasedMF trains in 11 s with one
thread and in over 100 s with two. Training therefore runs single-threaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n_threads: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
