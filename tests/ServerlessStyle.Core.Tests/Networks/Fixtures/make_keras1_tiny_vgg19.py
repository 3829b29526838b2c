#!/usr/bin/python3
"""Writes tiny_vgg19_keras1_notop.h5: a VGG19-named network with 2-4 channels per layer, laid out exactly as Keras 1's
save_weights (h5py) wrote vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, the file the seed loads:

- the root attribute layer_names and each group's weight_names are fixed-length byte strings (Keras 1 assigned lists of
  utf-8 encoded names, which the h5py 2 of its day turned into numpy 'S' arrays, HDF5 fixed-length strings; h5py 3 would
  store such a list as variable-length strings, so the arrays are built explicitly here), and weight_names is an empty
  float array for layers without weights, as a Python [] becomes;
- weights are named like block1_conv1_W_1:0 and block1_conv1_b_1:0 and sit directly under the layer's group;
- kernels are TensorFlow-ordered [height, width, in, out], biases [out].

It also writes tiny_vgg19_keras1_notop.expected.json: the input it used and, computed here with numpy in float64, the
block1_conv1 activation and the block5_conv2 activation (post-ReLU, after four 2x2 max-pools), which the C# test compares
with the network KerasWeights loads. Run with Debian's python3-h5py (apt-get install python3-h5py):

    tests/ServerlessStyle.Core.Tests/Networks/Fixtures/make_keras1_tiny_vgg19.py
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CONVS = [
    ("block1_conv1", 3), ("block1_conv2", 3),
    ("block2_conv1", 4), ("block2_conv2", 4),
    ("block3_conv1", 4), ("block3_conv2", 4), ("block3_conv3", 4), ("block3_conv4", 4),
    ("block4_conv1", 2), ("block4_conv2", 2), ("block4_conv3", 2), ("block4_conv4", 2),
    ("block5_conv1", 3), ("block5_conv2", 3), ("block5_conv3", 3), ("block5_conv4", 3),
]
POOL_AFTER = {"block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4", "block5_conv4"}
HEIGHT, WIDTH = 16, 32


def conv3x3_relu(x, kernel, bias):
    """x [C, H, W]; kernel [3, 3, C, O] (TensorFlow order); 'same' padding; ReLU."""
    channels, height, width = x.shape
    padded = np.zeros((channels, height + 2, width + 2))
    padded[:, 1:-1, 1:-1] = x
    out = np.zeros((kernel.shape[3], height, width))
    for ky in range(3):
        for kx in range(3):
            window = padded[:, ky:ky + height, kx:kx + width]
            out += np.einsum("chw,co->ohw", window, kernel[ky, kx].astype(np.float64))
    return np.maximum(out + bias.astype(np.float64)[:, None, None], 0)


def fixed_length(names):
    """Names as h5py 2 stored Keras 1's lists of encoded names: a numpy 'S' array, one HDF5 fixed-length string type."""
    return np.array([n.encode("utf8") for n in names], dtype="S")


def max_pool(x):
    channels, height, width = x.shape
    return x[:, :height // 2 * 2, :width // 2 * 2].reshape(channels, height // 2, 2, width // 2, 2).max(axis=(2, 4))


def main():
    rng = np.random.default_rng(19)
    weights = {}
    channels = 3
    for name, out in CONVS:
        scale = np.sqrt(2.0 / (9 * channels))
        weights[name] = (
            (rng.standard_normal((3, 3, channels, out)) * scale).astype(np.float32),
            (rng.standard_normal(out) * 0.1).astype(np.float32),
        )
        channels = out

    path = os.path.join(HERE, "tiny_vgg19_keras1_notop.h5")
    with h5py.File(path, "w") as f:
        layer_names = ["input_1"]
        for name, _ in CONVS:
            layer_names.append(name)
            if name in POOL_AFTER:
                layer_names.append(name[:6] + "_pool")
        # As Keras 1's save_weights_to_hdf5_group: lists of utf-8 encoded names, stored by h5py as fixed-length strings.
        f.attrs["layer_names"] = fixed_length(layer_names)
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"1.2.2"
        for layer in layer_names:
            group = f.create_group(layer)
            if layer in weights:
                kernel, bias = weights[layer]
                names = [layer + "_W_1:0", layer + "_b_1:0"]
                group.attrs["weight_names"] = fixed_length(names)
                for dataset, value in zip(names, (kernel, bias)):
                    group.create_dataset(dataset, value.shape, dtype=value.dtype)[:] = value
            else:
                group.attrs["weight_names"] = []

    c, y, x = np.meshgrid(np.arange(3), np.arange(HEIGHT), np.arange(WIDTH), indexing="ij")
    image = ((c * 37 + y * 11 + x * 5) % 64 - 32).astype(np.float64) * 3.0
    activation = image
    taps = {}
    for name, _ in CONVS:
        activation = conv3x3_relu(activation, *weights[name])
        taps[name] = activation
        if name == "block5_conv2":
            break
        if name in POOL_AFTER:
            activation = max_pool(activation)

    with open(os.path.join(HERE, "tiny_vgg19_keras1_notop.expected.json"), "w") as f:
        json.dump({
            "height": HEIGHT,
            "width": WIDTH,
            "input": "x[c, y, x] = ((37 c + 11 y + 5 x) mod 64 - 32) * 3, NCHW",
            "block1_conv1": {"shape": list(taps["block1_conv1"].shape), "values": taps["block1_conv1"].ravel().tolist()},
            "block5_conv2": {"shape": list(taps["block5_conv2"].shape), "values": taps["block5_conv2"].ravel().tolist()},
            "block3_conv2_W_1:0[1, 2, 3, 0]": float(weights["block3_conv2"][0][1, 2, 3, 0]),
        }, f, indent=1)


if __name__ == "__main__":
    main()
