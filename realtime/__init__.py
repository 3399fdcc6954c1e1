"""The live side: capture, hand tracking, smoothing, the per-frame pipeline, overlay, sinks and the loop."""

# The live loop tracks the hand on a copy of larger frames scaled to this long side (``HandTracker``; README,
# "Speed"). Here, not in ``tracking``, so that parsing a tool's flags loads neither OpenCV nor MediaPipe.
LIVE_TRACK_MAX_SIDE = 960
