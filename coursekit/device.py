"""Which device TensorFlow will use; every notebook prints it in its setup cell."""
from __future__ import annotations


def describe_device() -> None:
    """Print which device TensorFlow uses: the GPU when it sees one, else the CPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = ", ".join(gpu.name for gpu in gpus)
        text = f"TensorFlow {tf.__version__} will use the GPU ({names})."
    else:
        text = f"TensorFlow {tf.__version__} will use the CPU (no GPU found)."
    print(text)
