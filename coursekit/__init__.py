"""Helpers that lessons and exercises share: devices, small datasets and plots.

Importing this package before TensorFlow keeps TensorFlow's C++ start-up logs out of
notebooks, and turns off oneDNN's reordered float operations so results repeat exactly.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
