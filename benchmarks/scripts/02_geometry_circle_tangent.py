"""Tangents PA and PB from an external point P to a circle of radius 3 with OP = 5: find PA."""
import numpy as np
import matplotlib.pyplot as plt

r, d = 3.0, 5.0
O = np.array([0.0, 0.0])
P = np.array([d, 0.0])
alpha = np.arccos(r / d)          # angle AOP
A = r * np.array([np.cos(alpha), np.sin(alpha)])
B = r * np.array([np.cos(alpha), -np.sin(alpha)])

fig, ax = plt.subplots(figsize=(7, 5))
t = np.linspace(0, 2 * np.pi, 300)
ax.plot(r * np.cos(t), r * np.sin(t), color="black", lw=1.8)

# Tangent segments and radii
for T in (A, B):
    ax.plot([P[0], T[0]], [P[1], T[1]], color="tab:blue", lw=1.8)
    ax.plot([O[0], T[0]], [O[1], T[1]], color="gray", lw=1.2, ls="--")
ax.plot([O[0], P[0]], [O[1], P[1]], color="gray", lw=1.2, ls="--")

# Right-angle marks at the points of tangency
s = 0.3
for T in (A, B):
    u = (O - T) / np.linalg.norm(O - T)
    v = (P - T) / np.linalg.norm(P - T)
    sq = np.array([T + s * u, T + s * (u + v), T + s * v])
    ax.plot(sq[:, 0], sq[:, 1], color="black", lw=1)

labels = [("O", O, (-0.4, -0.4)), ("P", P, (0.15, -0.12)),
          ("A", A, (-0.15, 0.22)), ("B", B, (-0.15, -0.5))]
for name, pt, off in labels:
    ax.plot(*pt, "ko", ms=4)
    ax.text(pt[0] + off[0], pt[1] + off[1], name, fontsize=15)

ax.text(0.45, 1.45, r"$r = 3$", fontsize=13, ha="center")
ax.text(1.5, 0.12, r"$OP = 5$", fontsize=13, ha="center", va="bottom")
ax.text(3.9, 1.6, "PA = ?", fontsize=13, color="tab:blue")

ax.set_aspect("equal")
ax.set_xlim(-3.6, 5.9)
ax.set_ylim(-3.6, 3.6)
ax.axis("off")
ax.set_title("Tangents from an external point", fontsize=14)
plt.show()
