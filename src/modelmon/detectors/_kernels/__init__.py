"""Compiled (numba) loops of the streaming detectors.

These modules import numba, so the detector classes import them lazily, at the first
``update``/``update_many`` call: ``import modelmon.detectors`` stays fast and nothing is compiled
at import time. Each kernel works on the detector's NumPy state arrays in place, which is what lets
the scalar ``update`` and the batch ``update_many`` interleave freely.
"""
