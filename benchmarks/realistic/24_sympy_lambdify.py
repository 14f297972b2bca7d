import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

x = sp.symbols("x")
f = sp.sin(x) / x
taylor = sp.series(f, x, 0, 8).removeO()
fn, tn = sp.lambdify(x, f, "numpy"), sp.lambdify(x, taylor, "numpy")
xs = np.linspace(0.01, 8, 300)
plt.plot(xs, fn(xs), label=rf"${sp.latex(f)}$")
plt.plot(xs, tn(xs), "--", label="Taylor, order 7")
plt.ylim(-0.5, 1.2)
plt.legend()
plt.title("Where a Taylor series stops helping")
plt.savefig("taylor.png")
