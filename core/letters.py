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

# What to change when the model read the second letter where the first was meant: the difference between two
# confusable handshapes, in the learner's terms. Pairs not here fall back to both handshapes (:func:`difference`).
DIFFERENCES = {
    ("A", "S"): "A: the thumb stands up against the side of the index finger, not across the fingers (S)",
    ("S", "A"): "S: the thumb lies across the front of the fingers, not up at their side (A)",
    ("A", "E"): "A: a closed fist with the thumb up at the side; E bends the fingertips down over the thumb",
    ("E", "A"): "E: bend the fingertips down to rest on the thumb, which lies across the palm",
    ("E", "S"): "E: fingers bent at the middle joints over the thumb, tips showing; S is a tight fist",
    ("S", "E"): "S: close the fist fully, the thumb across the front of the fingers",
    ("M", "N"): "M: three fingers (index, middle, ring) fold over the thumb; N has only two",
    ("N", "M"): "N: only two fingers (index and middle) fold over the thumb; M has three",
    ("T", "A"): "T: tuck the thumb between the index and middle fingers, its tip showing",
    ("T", "S"): "T: tuck the thumb between the index and middle fingers, not across the front (S)",
    ("A", "T"): "A: the thumb outside the fist, up at the side, not tucked between the fingers (T)",
    ("S", "T"): "S: the thumb across the front of the fingers, not tucked between them (T)",
    ("M", "S"): "M: fold the thumb under the index, middle and ring fingers",
    ("N", "S"): "N: fold the thumb under the index and middle fingers",
    ("K", "V"): "K: the thumb tip sits between the index and middle fingers; V keeps the thumb folded",
    ("V", "K"): "V: fold the thumb across the palm; between the fingers it makes a K",
    ("K", "U"): "K: spread the index and middle fingers and put the thumb tip between them",
    ("R", "U"): "R: cross the middle finger over the index finger",
    ("U", "R"): "U: index and middle fingers side by side, not crossed (R)",
    ("U", "V"): "U: keep the index and middle fingers together",
    ("V", "U"): "V: spread the index and middle fingers apart",
    ("R", "V"): "R: cross the index and middle fingers instead of spreading them",
    ("V", "R"): "V: spread the index and middle fingers, not crossed (R)",
    ("R", "D"): "R: index and middle fingers both up and crossed; D raises only the index",
    ("U", "D"): "U: raise the middle finger beside the index; D raises only the index",
    ("G", "H"): "G: only the index finger points out beside the thumb; H adds the middle finger",
    ("H", "G"): "H: index and middle fingers point out together",
    ("P", "Q"): "P: index and middle fingers point down (a K turned down); Q points only the index",
    ("Q", "P"): "Q: only the index finger and thumb point down; P adds the middle finger",
    ("G", "Q"): "G: point sideways, not down (Q)",
    ("Q", "G"): "Q: turn the hand so the index finger and thumb point down",
    ("H", "P"): "H: point the two fingers sideways, not down (P)",
    ("P", "H"): "P: turn the hand down, the thumb between the two fingers",
    ("P", "K"): "P: the K handshape turned to point down",
    ("K", "P"): "K: point the index finger up",
    ("D", "X"): "D: the index finger straight up, the other fingertips touching the thumb",
    ("X", "D"): "X: hook the index finger; do not straighten it",
    ("I", "Y"): "I: fold the thumb; only the little finger stands up",
    ("Y", "I"): "Y: the thumb out to the side as well as the little finger",
    ("C", "O"): "C: leave a gap between the fingertips and the thumb",
    ("O", "C"): "O: touch the fingertips to the thumb tip, closing the O",
}


def difference(expected: str, seen: str) -> str:
    """What a learner who signed ``expected`` but was read as ``seen`` should change, in one sentence."""
    if (expected, seen) in DIFFERENCES:
        return DIFFERENCES[(expected, seen)]
    return f"{expected}: {HANDSHAPES[expected]} (it looked like {seen}: {HANDSHAPES[seen]})"
