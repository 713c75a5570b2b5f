"""Numbers for the prose: glue them from the executed cell instead of typing them.

``number("rmse_biasedmf", 0.9082)`` stores a value under a name; the text then
writes ``{glue:text}`rmse_biasedmf:.3f``` and shows what the code computed
when the book was built. A changed result changes the sentence, and a
sentence that no longer holds is caught by a hidden ``assert`` beside it.

myst-nb formats a glued value by reading back its ``repr``, which for NumPy
scalars (``np.float64(0.9)``) it cannot parse; these helpers store plain
Python numbers and strings.
"""

from __future__ import annotations

from numbers import Integral, Real

from myst_nb import glue


def number(name: str, value: Real) -> Real:
    """Glue a number (as a Python ``int`` or ``float``) without displaying it; return it."""
    plain = int(value) if isinstance(value, Integral) else float(value)
    glue(name, plain, display=False)
    return plain


def text(name: str, value: str) -> str:
    """Glue a piece of text, e.g. a preformatted ``"0.908 ± 0.002"``; return it."""
    glue(name, str(value), display=False)
    return value
