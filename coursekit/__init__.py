"""Helpers that lessons and exercises share: devices, small datasets and plots."""
