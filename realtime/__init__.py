"""The live side: capture, hand tracking, smoothing, the per-frame pipeline, overlay, sinks and the loop."""
