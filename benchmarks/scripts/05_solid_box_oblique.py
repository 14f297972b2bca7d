"""Rectangular box ABCD-A1B1C1D1 with AB = 4, BC = 3, AA1 = 2: find the length of the diagonal AC1."""
import numpy as np
import matplotlib.pyplot as plt

a, b, c = 4.0, 3.0, 2.0          # length, width (depth), height
k, phi = 0.5, np.radians(45)     # oblique projection: receding edges halved at 45 degrees


def proj(x, y, z):
    return np.array([x + k * y * np.cos(phi), z + k * y * np.sin(phi)])


V = {
    "A": proj(0, 0, 0), "B": proj(a, 0, 0), "C": proj(a, b, 0), "D": proj(0, b, 0),
    "A_1": proj(0, 0, c), "B_1": proj(a, 0, c), "C_1": proj(a, b, c), "D_1": proj(0, b, c),
}
visible = [("A", "B"), ("B", "C"), ("A", "A_1"), ("B", "B_1"), ("C", "C_1"),
           ("A_1", "B_1"), ("B_1", "C_1"), ("C_1", "D_1"), ("D_1", "A_1")]
hidden = [("A", "D"), ("D", "C"), ("D", "D_1")]

fig, ax = plt.subplots(figsize=(6.5, 4.5))
for p, q in visible:
    ax.plot(*zip(V[p], V[q]), color="black", lw=1.8)
for p, q in hidden:
    ax.plot(*zip(V[p], V[q]), color="black", lw=1.2, ls="--")

# Space diagonal asked for in the problem
ax.plot(*zip(V["A"], V["C_1"]), color="tab:red", lw=1.5, ls="-.")

offsets = {"A": (-0.35, -0.3), "B": (0.05, -0.35), "C": (0.12, -0.15), "D": (0.1, 0.08),
           "A_1": (-0.45, 0.0), "B_1": (0.08, -0.3), "C_1": (0.1, 0.05), "D_1": (-0.25, 0.12)}
for name, (dx, dy) in offsets.items():
    x, y = V[name]
    ax.text(x + dx, y + dy, rf"${name}$", fontsize=14)

ax.text(a / 2, -0.4, r"$AB = 4$", ha="center", va="top", fontsize=12)
mbc = (V["B"] + V["C"]) / 2
ax.text(mbc[0] + 0.3, mbc[1] - 0.15, r"$BC = 3$", ha="left", fontsize=12)
ax.text(-0.2, c / 2, r"$AA_1 = 2$", ha="right", va="center", fontsize=12)

ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Rectangular box (oblique projection)", pad=20)
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
