"""Regular square pyramid P-ABCD with base edge 6 and height PO = 4: find the slant height PM."""
import numpy as np
import matplotlib.pyplot as plt

s, h = 6.0, 4.0
k, phi = 0.5, np.radians(45)


def proj(x, y, z):
    """Cavalier-style oblique projection used in textbook drawings."""
    return np.array([x + k * y * np.cos(phi), z + k * y * np.sin(phi)])


pts3d = {
    "A": (0, 0, 0), "B": (s, 0, 0), "C": (s, s, 0), "D": (0, s, 0),
    "O": (s / 2, s / 2, 0), "P": (s / 2, s / 2, h), "M": (s, s / 2, 0),
}
V = {name: proj(*p) for name, p in pts3d.items()}

fig, ax = plt.subplots(figsize=(6.5, 5.5))

solid = [("A", "B"), ("B", "C"), ("P", "A"), ("P", "B"), ("P", "C")]
dashed = [("A", "D"), ("D", "C"), ("P", "D"), ("P", "O"), ("O", "M")]
for p, q in solid:
    ax.plot(*zip(V[p], V[q]), color="black", lw=1.8)
for p, q in dashed:
    ax.plot(*zip(V[p], V[q]), color="black", lw=1.1, ls="--")

# Slant height on face PBC
ax.plot(*zip(V["P"], V["M"]), color="tab:red", lw=1.8)

# Small right-angle mark at O (between PO and OM)
O = V["O"]
u = (V["M"] - O) / np.linalg.norm(V["M"] - O) * 0.35
v = np.array([0.0, 0.35])
sq = np.array([O + u, O + u + v, O + v])
ax.plot(sq[:, 0], sq[:, 1], color="black", lw=0.9)

offsets = {"A": (-0.45, -0.35), "B": (0.1, -0.4), "C": (0.15, -0.1), "D": (-0.2, 0.15),
           "O": (-0.15, -0.45), "P": (-0.15, 0.2), "M": (0.2, -0.15)}
for name, (dx, dy) in offsets.items():
    ax.plot(*V[name], "ko", ms=3)
    ax.text(V[name][0] + dx, V[name][1] + dy, name, fontsize=14)

ax.text(s / 2, -0.45, "AB = 6", ha="center", va="top", fontsize=12)
ax.text(V["O"][0] - 0.08, 3.3, "PO = 4", ha="right", va="center", fontsize=11)
ax.text(V["M"][0] + 0.35, (V["M"][1] + V["P"][1]) / 2 + 0.3, "PM = ?", color="tab:red", fontsize=12)

ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Square pyramid P-ABCD", pad=18)
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
plt.show()
