import numpy as np
import matplotlib.pyplot as plt
from scipy.integrate import solve_ivp


def lotka_volterra(t, z, a=1.0, b=0.1, c=1.5, d=0.075):
    x, y = z
    return [a * x - b * x * y, -c * y + d * x * y]


sol = solve_ivp(lotka_volterra, (0, 30), [10, 5], dense_output=True, rtol=1e-8)
t = np.linspace(0, 30, 1000)
x, y = sol.sol(t)
X, Y = np.meshgrid(np.linspace(1, 60, 20), np.linspace(1, 35, 20))
U, V = lotka_volterra(0, [X, Y])

fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
a1.plot(t, x, label="prey")
a1.plot(t, y, label="predator")
a1.set_xlabel("time")
a1.legend()
a2.streamplot(X, Y, U, V, color=np.hypot(U, V), cmap="Greys", density=1.2)
a2.plot(x, y, "r", lw=2)
a2.set_xlabel("prey")
a2.set_ylabel("predator")
a2.set_title("phase portrait")
plt.savefig("lv.png")
