import numpy as np
import matplotlib.pyplot as plt

x, y = np.meshgrid(np.linspace(-2, 2, 25), np.linspace(-2, 2, 25))
charges = [(1, -0.7, 0), (-1, 0.7, 0)]
V = sum(q / np.hypot(x - cx, y - cy).clip(0.1) for q, cx, cy in charges)
Ey, Ex = np.gradient(-V)
E = np.hypot(Ex, Ey)

fig, ax = plt.subplots(figsize=(6, 6))
cf = ax.contourf(x, y, V, levels=np.linspace(-5, 5, 21), cmap="RdBu_r", extend="both")
ax.quiver(x, y, Ex / E, Ey / E, E, cmap="Greys", scale=30)
for q, cx, cy in charges:
    ax.plot(cx, cy, "o", ms=14, color="red" if q > 0 else "blue")
    ax.text(cx, cy, "+" if q > 0 else "−", ha="center", va="center", color="white", fontsize=14)
fig.colorbar(cf, ax=ax, label="potential (a.u.)", shrink=0.8)
ax.set_aspect("equal")
ax.set_title("Electric dipole")
plt.savefig("dipole.png")
