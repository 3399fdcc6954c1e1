"""The live side: capture, hand tracking and cropping, smoothing, overlay, recording, the per-frame pipeline."""
