"""The manual alphabet as the project names it."""

from __future__ import annotations

import string

ALL_LETTERS = tuple(string.ascii_uppercase)
NO_LETTER = "none"  # class name of "no letter": a hand that shows none of the letters a model knows
# Letters whose handshapes differ by a thumb or a finger's angle: where a model's mistakes fall (evaluation
# reports each group; the word suggestions count a swap inside one as half a mistake).
CONFUSABLE_GROUPS = ("AEMNST", "KRUV", "GHPQ", "DXZ", "IJY", "CO")

# What each handshape looks like, for a learner who missed it (practice mode). The palm faces the viewer unless
# said otherwise.
HANDSHAPES = {
    "A": "fist, thumb straight up against the side of the index finger",
    "B": "flat hand, four fingers straight up together, thumb folded across the palm",
    "C": "fingers and thumb curved into a C, as if holding a cup",
    "D": "index finger straight up, the other fingers curve to touch the thumb tip",
    "E": "fingers bent down over the thumb, which is folded across the palm",
    "F": "index finger and thumb touch in a circle, the other three fingers straight up",
    "G": "index finger and thumb point sideways, parallel, the other fingers folded; back of the hand out",
    "H": "index and middle fingers point sideways together, the thumb folded; back of the hand out",
    "I": "fist with the little finger straight up",
    "J": "the I handshape: the little finger draws a hook, down and curving toward the thumb",
    "K": "index up, middle finger forward, thumb tip between them",
    "L": "index finger up and thumb out to the side: an L",
    "M": "thumb tucked under the index, middle and ring fingers, folded over it",
    "N": "thumb tucked under the index and middle fingers, folded over it",
    "O": "all fingertips curve to touch the thumb tip: an O",
    "P": "the K handshape pointing down",
    "Q": "the G handshape pointing down",
    "R": "index and middle fingers crossed, straight up",
    "S": "fist, thumb across the front of the fingers",
    "T": "fist, thumb tucked between the index and middle fingers",
    "U": "index and middle fingers straight up together",
    "V": "index and middle fingers up and apart: a V",
    "W": "index, middle and ring fingers up and apart",
    "X": "index finger hooked, the other fingers folded",
    "Y": "thumb and little finger out, the other fingers folded",
    "Z": "the index finger draws a Z in the air",
}
