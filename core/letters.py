"""The manual alphabet as the project names it."""

from __future__ import annotations

import string

ALL_LETTERS = tuple(string.ascii_uppercase)
NO_LETTER = "none"  # class name of "no letter": a hand that shows none of the letters a model knows
