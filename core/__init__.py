"""The bottom layer: what a hand is and how it is cut out of a frame. NumPy and OpenCV only, nothing of the project.

``model/`` builds on it, ``realtime/`` and ``train/`` on ``model/`` (ARCHITECTURE.md).
"""
