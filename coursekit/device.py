"""Which device TensorFlow will use; every notebook prints it in its setup cell."""
from __future__ import annotations


def describe_device() -> str:
    """Print and return a one-line description of the device TensorFlow uses (GPU when it sees one)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = ", ".join(gpu.name for gpu in gpus)
        text = f"TensorFlow {tf.__version__} will use the GPU ({names})."
    else:
        text = f"TensorFlow {tf.__version__} will use the CPU (no GPU found)."
    print(text)
    return text
