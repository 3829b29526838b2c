"""The reference optimiser's own time per evaluation (issue 5): scipy's L-BFGS-B (fmin_l_bfgs_b, m = 10, as the Keras
example calls it) on a problem of an image's size, 3 x 224 x 336 variables, with the objective's time taken out.

The objective is a Rosenbrock chain (cheap, coupled, so L-BFGS keeps iterating). Between two evaluations it also
writes a 96 MB buffer, as a loss network's evaluation does to the caches, so the optimiser's vectors come from memory
as they do in a real run; the buffer's time is part of the objective's time and is taken out too.

Usage: python3 bench/lbfgs_overhead.py [--n N] [--evaluations E]
Compare with the optim_s column of `serverless-style-bench pipeline` (seconds per chunk of 20 evaluations).
"""
import argparse
import time

import numpy as np
from scipy.optimize import fmin_l_bfgs_b

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=3 * 224 * 336)
parser.add_argument("--evaluations", type=int, default=60)
args = parser.parse_args()

evict = np.zeros(96 << 20, dtype=np.uint8)
spent = [0.0, 0]


def objective(x):
    started = time.perf_counter()
    a, b = x[:-1], x[1:]
    r = b - a * a
    f = float(np.sum(100 * r * r + (1 - a) ** 2))
    g = np.zeros_like(x)
    g[:-1] += -400 * r * a - 2 * (1 - a)
    g[1:] += 200 * r
    evict.fill(spent[1] & 0xFF)
    spent[0] += time.perf_counter() - started
    spent[1] += 1
    return f, g


x0 = np.random.default_rng(1).random(args.n)
started = time.perf_counter()
fmin_l_bfgs_b(objective, x0, m=10, maxfun=args.evaluations, maxiter=10**9)
total = time.perf_counter() - started
print(f"scipy L-BFGS-B, n = {args.n}, m = 10: {spent[1]} evaluations, optimiser {1000 * (total - spent[0]) / spent[1]:.2f} ms per evaluation "
      f"(total {total:.2f} s, objective {spent[0]:.2f} s)")
