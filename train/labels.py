"""Frame-range labels for a recording: a small text file beside the video, one range a line.

    # first,last,label   (frame numbers, inclusive; label is a letter or "none" for no letter)
    40,109,A
    110,131,none

The same ranges can be given inline on the command line: ``40-109:A,110-131:none``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import AslError
from core.letters import ALL_LETTERS, NO_LETTER

VALID = set(ALL_LETTERS) | {NO_LETTER}


class LabelError(AslError):
    """Labels that cannot be used; the message is one line for the user."""


@dataclass(frozen=True, order=True)
class Range:
    first: int
    last: int
    label: str

    def __contains__(self, frame: int) -> bool:
        return self.first <= frame <= self.last


def labels_path(video: Path) -> Path:
    return Path(video).with_suffix(".labels.csv")


def _make(first: int, last: int, label: str, where: str) -> Range:
    label = label.strip()
    label = label.upper() if len(label) == 1 else label.lower()
    if label not in VALID:
        raise LabelError(f"{where}: unknown label {label!r} (a letter A-Z or {NO_LETTER!r})")
    if first < 0 or last < first:
        raise LabelError(f"{where}: bad frame range {first}-{last}")
    return Range(first, last, label)


def parse_labels(text: str, where: str = "labels") -> list[Range]:
    """Ranges from file text (``first,last,label`` lines) or an inline ``first-last:label,...`` string."""
    ranges = []
    if "\n" not in text.strip() and ":" in text:
        items = [i for i in text.split(",") if i.strip()]
        for item in items:
            try:
                span, label = item.split(":")
                first, _, last = span.partition("-")
                ranges.append(_make(int(first), int(last or first), label, f"{where} {item!r}"))
            except ValueError:
                raise LabelError(f"{where}: cannot read {item!r}; write ranges as 40-109:A,110-131:none") from None
    else:
        for n, line in enumerate(text.splitlines(), 1):
            line = line.split("#")[0].strip()
            if not line or (not ranges and line.replace(" ", "").lower() == "first,last,label"):  # a header
                continue
            try:
                first, last, label = line.split(",")
                ranges.append(_make(int(first), int(last), label, f"{where} line {n}"))
            except ValueError:
                raise LabelError(f"{where} line {n}: expected first,last,label, got {line!r}") from None
    ranges.sort()
    for a, b in zip(ranges, ranges[1:]):
        if b.first <= a.last:
            raise LabelError(f"{where}: ranges {a.first}-{a.last} and {b.first}-{b.last} overlap")
    return ranges


def read_labels(source: str | Path) -> list[Range]:
    """A label file, or inline ranges when ``source`` is not a file."""
    path = Path(source)
    if path.is_file():
        try:
            return parse_labels(path.read_text(encoding="utf-8"), str(path))
        except UnicodeDecodeError:
            raise LabelError(f"{path} is not UTF-8 text: save the labels as first,last,label lines") from None
    if ":" in str(source):
        return parse_labels(str(source))
    raise LabelError(f"label file not found: {source}")


def write_labels(path: Path, ranges: list[Range]) -> None:
    lines = ["# first,last,label   (frame numbers, inclusive; label is a letter or 'none' for no letter)"]
    lines += [f"{r.first},{r.last},{r.label}" for r in sorted(ranges)]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def set_range(ranges: list[Range], first: int, last: int, label: str | None) -> list[Range]:
    """``ranges`` with frames first..last given ``label`` (None erases them); neighbours are trimmed or split,
    and touching ranges of the same label are merged."""
    first, last = min(first, last), max(first, last)
    out = []
    for r in ranges:
        if r.last < first or r.first > last:
            out.append(r)
            continue
        if r.first < first:
            out.append(Range(r.first, first - 1, r.label))
        if r.last > last:
            out.append(Range(last + 1, r.last, r.label))
    if label is not None:
        out.append(_make(first, last, label, "label"))
    merged: list[Range] = []
    for r in sorted(out):
        if merged and merged[-1].label == r.label and merged[-1].last + 1 >= r.first:
            merged[-1] = Range(merged[-1].first, max(merged[-1].last, r.last), r.label)
        else:
            merged.append(r)
    return merged


def label_at(ranges: list[Range], frame: int) -> str | None:
    return next((r.label for r in ranges if frame in r), None)
