"""Words decoded with the dictionary: held letters and what the model thought of each, to the likeliest word."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.decode import DecoderSettings, HeldLetter, WordDecoder
from realtime.tracking import HandMotion
from tests import spelling

WORDS = {"bee": 1e-5, "be": 5e-3, "name": 1e-4, "orange": 3e-5, "phone": 5e-5, "sign": 4e-5, "learn": 6e-5}
WORDS.update(hello=1e-4, the=5e-2)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.fixture(scope="module")
def decoder():
    return WordDecoder(list(WORDS), list(WORDS.values()), LETTERS, DecoderSettings())


def sure(word: str) -> list[HeldLetter]:
    return [HeldLetter(c, ((c, 0.95),)) for c in word]


def test_an_unsure_letter_inside_its_confusable_group_is_corrected(decoder):
    held = sure("NA") + [HeldLetter("N", (("N", 0.5), ("M", 0.4)))] + sure("E")
    decoded = decoder.decode(held)
    assert (decoded.letters, decoded.word, decoded.corrected) == ("NANE", "NAME", True)


def test_a_missed_letter_is_put_back(decoder):
    assert decoder.decode(sure("ORAGE")).word == "ORANGE"
    assert decoder.decode(sure("SIG")).word == "SIGN"


def test_a_letter_too_many_is_taken_out_unless_it_was_sure(decoder):
    passing = [HeldLetter("S", (("S", 0.6), ("E", 0.3)))]  # a shape passed through on the way to N
    assert decoder.decode(sure("PHO") + passing + sure("NE")).word == "PHONE"
    assert decoder.decode(sure("PHOSNE")).word == "PHOSNE"


def test_a_sure_letter_is_never_swapped(decoder):
    assert decoder.decode(sure("LEARB")).word == "LEARB"
    unsure_b = [HeldLetter("B", (("B", 0.6), ("N", 0.1)))]
    assert decoder.decode(sure("LEAR") + unsure_b).word == "LEARN"


def test_a_missed_double_letter_is_cheap(decoder):
    assert decoder.decode(sure("HELO")).word == "HELLO"


def test_a_name_spelled_with_sure_letters_stays_as_spelled(decoder):
    assert decoder.decode([HeldLetter("B", (("B", 0.8), ("E", 0.1)))]).word == "B"  # not BE: a letter alone stays
    for name in ("KEVIN", "ROXY", "BEA", "NAMES"):
        decoded = decoder.decode(sure(name))
        assert decoded.word == name and not decoded.corrected


def test_a_dictionary_word_read_right_stays(decoder):
    assert decoder.decode(sure("LEARN")).word == "LEARN"


def test_letters_the_model_cannot_commit_are_never_proposed():
    decoder = WordDecoder(["hello", "help"], [1e-4, 1e-4], "HELP", DecoderSettings())
    assert decoder.decode(sure("HEP")).word == "HELP"
    assert len(decoder) == 1


def test_the_transcript_shows_the_decoded_word_and_can_undo_it(decoder):
    transcript = spelling.transcript(decode=decoder.decode)
    _, ended = spelling.away(transcript, spelling.show(transcript, 0.0, "ORAGE", p=0.8), 1.5)
    assert ended == ["ORANGE"] and transcript.read == ["ORAGE"]
    assert transcript.text == "ORANGE" and transcript.correction == ("ORAGE", "ORANGE")
    assert transcript.undo_correction() == "ORAGE"
    assert transcript.text == "ORAGE" and transcript.correction is None


def test_a_letter_carries_the_probabilities_averaged_over_its_frames():
    transcript = spelling.transcript()
    t = spelling.show(transcript, 0.0, "N", 0.2, p=0.9)
    spelling.show(transcript, t, "N", 0.2, p=0.5)
    (held,) = transcript.held
    assert held.letter == "N" and held.top[0] == ("N", 0.7)


def test_the_run_ends_with_the_word_in_progress_finished_once():
    transcript = spelling.transcript()
    spelling.show(transcript, 0.0, "A")
    first, second = transcript.finish(0.5), transcript.finish(0.6)
    assert first is second and first is not None and transcript.words == ["A"]


def palm_hand(dx: float, dy: float, size: float = 40.0) -> np.ndarray:
    """Landmarks of a hand whose wrist-to-middle-knuckle size is ``size`` pixels, shifted by (dx, dy)."""
    rng = np.random.default_rng(3)
    hand = np.zeros((21, 3))
    hand[:, :2] = rng.uniform(-size, size, (21, 2))
    hand[0, :2], hand[9, :2] = (0.0, 0.0), (0.0, -size)
    hand[:, 0] += 320 + dx
    hand[:, 1] += 240 + dy
    return hand


def test_hand_motion_counts_a_slide_but_not_tremor():
    motion, rng = HandMotion(0.2), np.random.default_rng(0)
    tremor = [motion.update(palm_hand(*rng.integers(-2, 3, 2)), k / 30) for k in range(60)]
    assert max(tremor) < 0.15  # two pixels back and forth on a 40-pixel hand
    slide = [motion.update(palm_hand(5 * k, 0), (60 + k) / 30) for k in range(1, 6)]
    assert slide[-1] >= 0.5  # 25 pixels within the span: more than half a hand
    assert motion.update(None, 3.0) == 0.0 and motion.update(palm_hand(100, 0), 3.1) == 0.0  # a hand just found


def test_a_slide_over_two_frames_is_seen_whole_at_a_pages_frame_rate():
    """At 13 frames a second a span of 0.15 s held one earlier frame: a slide of 0.45 hand sizes over two frame
    intervals read as two moves of 0.22, under the 0.3 that makes a double letter (HELLO's LL half the time)."""
    motion, step = HandMotion(0.15), 1 / 13
    for k in range(5):
        motion.update(palm_hand(0, 0), k * step)
    halfway = motion.update(palm_hand(9, 0), 5 * step)
    done = motion.update(palm_hand(18, 0), 6 * step)  # 18 pixels on a 40-pixel hand
    assert halfway < 0.3 <= done


def test_a_double_letter_signed_with_a_bounce_is_kept(decoder):
    assert decoder.decode(sure("BEE")).word == "BEE"  # not the far more frequent BE


def test_a_word_finished_after_the_transcript_closed_gets_no_suggestions_and_no_error():
    transcript = spelling.transcript(suggest=lambda word: [word.lower()])
    spelling.show(transcript, 0.0, "A")
    transcript.close()
    assert transcript.finish(0.5) is not None and transcript.text == "A" and transcript.suggestions == []


def test_a_word_read_as_a_dictionary_word_is_not_swapped_for_a_frequent_neighbour():
    """Seen on an unseen webcam session: MODE read (its D unsure), MORE shown; WARS read, WAS shown."""
    decoder = WordDecoder(["mode", "more", "wars", "was"], [5e-5, 1e-3, 3e-5, 5e-3], LETTERS, DecoderSettings())
    unsure_d = [HeldLetter("D", (("D", 0.6), ("R", 0.3)))]
    assert decoder.decode(sure("MO") + unsure_d + sure("E")).word == "MODE"
    assert decoder.decode([HeldLetter(c, ((c, 0.7),)) for c in "WARS"]).word == "WARS"
