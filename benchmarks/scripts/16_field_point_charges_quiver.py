"""Two equal charges +q = 2 nC at A(-2, 0) and B(2, 0) cm: find the electric field at P(0, 2) cm."""
import numpy as np
import matplotlib.pyplot as plt

x, y = np.meshgrid(np.linspace(-4, 4, 21), np.linspace(-3, 3.5, 17))
Ex = np.zeros_like(x)
Ey = np.zeros_like(y)
for cx in (-2.0, 2.0):
    dx, dy = x - cx, y
    r3 = (dx**2 + dy**2) ** 1.5
    r3[r3 < 0.05] = np.inf
    Ex += dx / r3
    Ey += dy / r3
mag = np.hypot(Ex, Ey)
mag[mag == 0] = 1.0

fig, ax = plt.subplots(figsize=(7, 5.5))
ax.quiver(x, y, Ex / mag, Ey / mag, np.log(mag), cmap="viridis", scale=30, width=0.004)

for cx, name in [(-2, "A"), (2, "B")]:
    ax.plot(cx, 0, "o", color="tab:red", ms=16)
    ax.text(cx, 0, "+", color="white", ha="center", va="center", fontsize=14, fontweight="bold")
    ax.text(cx, -0.6, name + r" ($+q$)", ha="center", fontsize=12, bbox=dict(fc="white", ec="none", pad=1))

ax.plot(0, 2, "ks")
ax.plot(0, 0, "ko", ms=4)
ax.text(0.15, -0.35, "O", fontsize=13, bbox=dict(fc="white", ec="none", pad=1))
ax.text(0.2, 2.2, "P", fontsize=14)
ax.plot([-2, 0, 2], [0, 2, 0], "k--", lw=1)
ax.text(0, -1.2, "AB = 4 cm,  OP = 2 cm,  q = 2 nC", ha="center", fontsize=12,
        bbox=dict(fc="white", ec="gray"))
ax.set_xlim(-4.4, 4.4)
ax.set_ylim(-3.3, 3.8)
ax.set_aspect("equal")
ax.set_xlabel("x (cm)")
ax.set_ylabel("y (cm)")
ax.set_title("Electric field of two equal positive charges")
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
