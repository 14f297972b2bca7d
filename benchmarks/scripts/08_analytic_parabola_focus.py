"""Parabola y^2 = 8x with focus F(2, 0): point P on it has x-coordinate 4.5, find |PF|."""
import numpy as np
import matplotlib.pyplot as plt

p = 4                      # y^2 = 2px  ->  2p = 8
F = np.array([p / 2, 0.0])
y = np.linspace(-7.5, 7.5, 400)
x = y**2 / 8

P = np.array([4.5, 6.0])   # on the parabola: 6^2 = 8 * 4.5
Q = np.array([-2.0, P[1]]) # foot of perpendicular on the directrix

fig, ax = plt.subplots(figsize=(6.5, 6))
ax.plot(x, y, color="tab:blue", lw=2, label=r"$y^2 = 8x$")
ax.axvline(-2, color="tab:green", ls="--", lw=1.5, label=r"directrix $x = -2$")

ax.plot([P[0], F[0]], [P[1], F[1]], color="tab:red", lw=1.8)
ax.plot([P[0], Q[0]], [P[1], Q[1]], color="gray", lw=1.2, ls=":")
ax.plot([P[0], P[0]], [0, P[1]], color="gray", lw=1, ls=":")

for pt in (F, P, Q):
    ax.plot(*pt, "ko", ms=5)
ax.text(F[0] + 0.1, F[1] - 0.9, r"$F(2,\,0)$", fontsize=13)
ax.text(P[0] + 0.2, P[1] + 0.2, r"$P$", fontsize=14)
ax.text(Q[0] - 0.7, Q[1] + 0.2, r"$Q$", fontsize=14)
ax.text(P[0] + 0.15, 0.3, r"$x = 4.5$", fontsize=12)
ax.text(3.7, 2.6, r"$|PF| = ?$", fontsize=13, color="tab:red")

# Axes through the origin, textbook style
ax.spines["left"].set_position("zero")
ax.spines["bottom"].set_position("zero")
ax.spines["right"].set_visible(False)
ax.spines["top"].set_visible(False)
ax.set_xlim(-3.5, 8)
ax.set_ylim(-8, 8)
ax.set_aspect("equal")
ax.text(7.8, 0.3, "x", fontsize=13)
ax.text(-0.6, -0.8, "O", fontsize=13)
ax.set_xticks([])
ax.set_yticks([])
ax.text(0.25, 7.6, "y", fontsize=13)
ax.legend(loc="lower right")
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
