"""numpy array types shared by every layer: readers fill them, the model, analyses and renderers read them.

They live here, below the readers, so that an analysis or a renderer that takes a column of numbers does not
import a parser to name its type.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Bools", "Floats", "Ints", "Small", "Words"]

Ints = npt.NDArray[np.int64]
Words = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Small = npt.NDArray[np.uint8]
