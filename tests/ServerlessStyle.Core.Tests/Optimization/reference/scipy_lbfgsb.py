"""Reference evaluation counts for the optimiser tests: scipy's fmin_l_bfgs_b with its defaults
(m=10, factr=1e7, pgtol=1e-5, maxls=20) on the test problems of TestProblems.cs. Only the
evaluation limits are raised (maxfun=maxiter=10**6): the default 15000 stops the chained
Rosenbrock at n=10000 long before it converges (it needs ~57600 evaluations).

Run:  /usr/bin/python3 tests/ServerlessStyle.Core.Tests/Optimization/reference/scipy_lbfgsb.py
(Debian's python3-scipy). The printed table is pasted into scipy_lbfgsb.txt beside this script.
"""
import numpy as np
import scipy
from scipy.optimize import fmin_l_bfgs_b, rosen, rosen_der


def rosenbrock_start(n):
    # -1.2, 1, -1.2, 1, ...
    x = np.ones(n)
    x[0::2] = -1.2
    return x


def quadratic(n):
    # f = 0.5 * sum(a_i (x_i - c_i)^2), a_i from 1 to 100, c_i = (i mod 7) - 3; minimiser c, minimum 0.
    i = np.arange(n)
    a = 1.0 + 99.0 * i / (n - 1)
    c = (i % 7) - 3.0

    def fg(x):
        r = x - c
        return 0.5 * np.sum(a * r * r), a * r

    return fg, c


def run(name, fg, x0, xstar):
    x, f, info = fmin_l_bfgs_b(fg, x0, maxfun=10**6, maxiter=10**6)
    err = np.max(np.abs(x - xstar))
    task = info["task"]
    if isinstance(task, bytes):
        task = task.decode()
    print(f"{name:16s} nfev={info['funcalls']:5d} nit={info['nit']:5d} f={f:.6e} maxerr={err:.3e} {task}")


print(f"scipy {scipy.__version__}, numpy {np.__version__}")
for n in (2, 100, 10000):
    run(f"rosenbrock-{n}", lambda x: (rosen(x), rosen_der(x)), rosenbrock_start(n), np.ones(n))
fg, c = quadratic(100)
run("quadratic-100", fg, np.zeros(100), c)
