#!/usr/bin/python3
"""The Gatys loss of the Keras example (docs/contracts.md, The loss), written independently in PyTorch.

It loads the same seeded VGG19-shaped weights that the C# engine uses (exported with
`serverless-style-bench export-random-vgg19 FILE.onnx`, read with the `onnx` package) and:

  check  evaluates loss and gradient in float64 at the point the C# `eval` command evaluated
         (its --inputs-out folder) and prints the relative errors of ours against it;
  time   times forward + backward per evaluation (float32, targets precomputed) at a size, on the CPU or, with
         --device cuda, on a GPU (the comparison the goals in docs/contracts.md ask for on the same GPU);
  gemm   measures the machine's sgemm GFLOP/s (n^3 matrices), the peak the engine is compared with.

Run with Debian's python (/usr/bin/python3, packages python3-torch python3-onnx libopenblas0-pthread).
"""
import argparse
import json
import resource
import statistics
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F

STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
CONTENT_LAYER = "block5_conv2"
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 0.025, 1.0, 1.0


class OnnxVgg:
    """Runs the Conv/Relu/MaxPool node list of the ONNX file in order, keeping the tapped tensors."""

    def __init__(self, path, dtype, device="cpu"):
        model = onnx.load(path)
        weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).to(device=device, dtype=dtype) for t in model.graph.initializer}
        self.steps = []
        for node in model.graph.node:
            attrs = {a.name: list(a.ints) for a in node.attribute}
            if node.op_type == "Conv":
                pads = attrs.get("pads", [0, 0, 0, 0])
                assert pads[0] == pads[2] and pads[1] == pads[3], "asymmetric pads"
                self.steps.append(("conv", node.input[0], node.output[0], weights[node.input[1]], weights[node.input[2]], (pads[0], pads[1])))
            elif node.op_type == "Relu":
                self.steps.append(("relu", node.input[0], node.output[0]))
            elif node.op_type == "MaxPool":
                self.steps.append(("pool", node.input[0], node.output[0], attrs["kernel_shape"], attrs["strides"]))
            else:
                raise ValueError(f"unsupported op {node.op_type}")
        self.input = model.graph.input[0].name

    def taps(self, x):
        values = {self.input: x}
        for step in self.steps:
            kind, src, dst = step[0], step[1], step[2]
            if kind == "conv":
                values[dst] = F.conv2d(values[src], step[3], step[4], padding=step[5])
            elif kind == "relu":
                values[dst] = F.relu(values[src])
            else:
                values[dst] = F.max_pool2d(values[src], step[3], step[4])
            if dst == CONTENT_LAYER:
                break
        return [values[l] for l in STYLE_LAYERS], values[CONTENT_LAYER]


def gram(feature):
    c = feature.shape[1]
    flat = feature.reshape(c, -1)
    return flat @ flat.t()


def targets(net, content, style):
    with torch.no_grad():
        _, content_features = net.taps(content)
        style_features, _ = net.taps(style)
        return content_features, [gram(f) for f in style_features]


def loss(net, x, content_features, style_grams):
    h, w = x.shape[2], x.shape[3]
    style_features, features = net.taps(x)
    content = CONTENT_WEIGHT * ((features - content_features) ** 2).sum()
    # The Keras example divides by 4 * 3^2 * (H*W)^2 with the image size and a fixed 3, and weights each layer 1/5.
    style = sum(((g - gram(f)) ** 2).sum() for f, g in zip(style_features, style_grams))
    style = STYLE_WEIGHT / len(STYLE_LAYERS) * style / (4.0 * 9.0 * (h * w) ** 2)
    a = (x[:, :, : h - 1, : w - 1] - x[:, :, 1:, : w - 1]) ** 2
    b = (x[:, :, : h - 1, : w - 1] - x[:, :, : h - 1, 1:]) ** 2
    tv = TV_WEIGHT * ((a + b) ** 1.25).sum()
    return content + style + tv, (content, style, tv)


def check(args):
    net = OnnxVgg(args.onnx, torch.float64)
    load = lambda name: torch.from_numpy(np.load(f"{args.inputs}/{name}.npy").astype(np.float64))
    content_features, style_grams = targets(net, load("content"), load("style"))
    x = load("x").requires_grad_(True)
    total, terms = loss(net, x, content_features, style_grams)
    total.backward()
    reference = x.grad.numpy()
    ours = json.load(open(args.ours_json))
    ours_gradient = np.load(args.ours_grad).astype(np.float64)
    rel = lambda a, b: abs(a - b) / abs(b) if b != 0 else abs(a)
    print(json.dumps({
        "size": list(x.shape[2:]),
        "torchLoss": total.item(),
        "oursLoss": ours["loss"],
        "lossRelErr": rel(ours["loss"], total.item()),
        "termsRelErr": {k: rel(ours[k], t.item()) for k, t in zip(["content", "style", "tv"], terms)},
        "gradientRelErr": float(np.linalg.norm(ours_gradient - reference) / np.linalg.norm(reference)),
        "gradientCosine": float((ours_gradient * reference).sum() / np.linalg.norm(ours_gradient) / np.linalg.norm(reference)),
    }))


def timing(args):
    torch.set_num_threads(args.threads)
    cuda = args.device == "cuda"
    net = OnnxVgg(args.onnx, torch.float32, args.device)
    generator = torch.Generator().manual_seed(0)
    shape = (1, 3, args.size, args.size)
    content, style, x0 = (60 * torch.randn(shape, generator=generator).to(args.device) for _ in range(3))
    content_features, style_grams = targets(net, content, style)
    # On a GPU the kernels run asynchronously: the clock stops when the gradient is computed, not when it is queued.
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times = []
    for i in range(args.runs + 1):
        x = x0.clone().requires_grad_(True)
        sync()
        start = time.perf_counter()
        total, _ = loss(net, x, content_features, style_grams)
        total.backward()
        sync()
        elapsed = (time.perf_counter() - start) * 1000
        if i > 0:  # the first run is the warm-up
            times.append(elapsed)
    result = {
        "size": args.size, "device": args.device, "threads": torch.get_num_threads(), "runs": args.runs,
        "medianMs": round(statistics.median(times), 1), "minMs": round(min(times), 1),
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if cuda:
        result["gpu"] = torch.cuda.get_device_name()
        result["peakGpuMb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    print(json.dumps(result))


def gemm(args):
    torch.set_num_threads(args.threads)
    n = args.n
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - start)
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line})
    print(json.dumps({"n": n, "threads": torch.get_num_threads(), "gflops": round(2 * n**3 / statistics.median(times) / 1e9, 1), "blas": blas}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onnx", help="the exported random VGG19")
    parser.add_argument("--threads", type=int, default=2)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("--inputs", required=True, help="folder written by `eval --inputs-out`")
    c.add_argument("--ours-json", required=True)
    c.add_argument("--ours-grad", required=True)
    t = sub.add_parser("time")
    t.add_argument("--size", type=int, required=True)
    t.add_argument("--runs", type=int, default=5)
    t.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    g = sub.add_parser("gemm")
    g.add_argument("--n", type=int, default=2048)
    g.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    {"check": check, "time": timing, "gemm": gemm}[args.command](args)


if __name__ == "__main__":
    main()
