"""Schematic animal cell with its main organelles labelled, for a question on organelle functions."""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse, Circle, Arc

rng = np.random.default_rng(0)
fig, ax = plt.subplots(figsize=(9, 6.5))

# Plasma membrane and cytoplasm
ax.add_patch(Ellipse((0, 0), 10, 7, facecolor="#fdf1d6", edgecolor="#b5651d", lw=3))

# Nucleus with nuclear envelope and nucleolus
ax.add_patch(Ellipse((-1.0, 0.3), 3.0, 2.4, facecolor="#d9c7ef", edgecolor="#6a4c93", lw=2))
ax.add_patch(Circle((-0.7, 0.5), 0.45, facecolor="#6a4c93", alpha=0.8))

# Rough ER: arcs hugging the nucleus, studded with ribosomes
for i, w in enumerate([3.9, 4.5, 5.1]):
    ax.add_patch(Arc((-1.0, 0.3), w, w * 0.8, theta1=200, theta2=300, color="#3a7ca5", lw=2))
    th = np.radians(rng.uniform(205, 295, 8))
    ax.plot(-1.0 + w / 2 * np.cos(th), 0.3 + w * 0.4 * np.sin(th), "k.", ms=4)

# Free ribosomes
ax.plot(rng.uniform(0.5, 3.5, 12), rng.uniform(-0.5, 1.0, 12), ".", color="black", ms=3)

# Mitochondria with cristae
for (cx, cy, ang) in [(2.4, 1.7, 20), (1.9, -2.0, -15), (-3.6, 0.9, 60)]:
    ax.add_patch(Ellipse((cx, cy), 1.6, 0.7, angle=ang, facecolor="#f4a261", edgecolor="#9c4a1a", lw=1.5))
    s = np.linspace(-0.65, 0.65, 60)
    wave = 0.18 * np.sin(s * 14)
    a = np.radians(ang)
    ax.plot(cx + s * np.cos(a) - wave * np.sin(a), cy + s * np.sin(a) + wave * np.cos(a),
            color="#9c4a1a", lw=1)

# Golgi apparatus: stacked flattened arcs
for k in range(4):
    ax.add_patch(Arc((3.2, -0.2), 1.6 - 0.25 * k, 1.2 - 0.2 * k, theta1=100, theta2=260,
                     color="#2a9d8f", lw=3))

# Lysosomes and a vacuole
for (cx, cy) in [(0.4, -2.5), (-2.4, 2.1)]:
    ax.add_patch(Circle((cx, cy), 0.3, facecolor="#e76f51", edgecolor="#8b2f1c"))
ax.add_patch(Circle((0.8, 2.2), 0.5, facecolor="#bde0fe", edgecolor="#457b9d"))

labels = [
    ("Cell membrane", (4.3, 1.8), (5.6, 3.2)),
    ("Nucleus", (-1.9, 1.1), (-4.5, 3.6)),
    ("Nucleolus", (-0.7, 0.5), (-1.0, 4.0)),
    ("Mitochondrion", (2.4, 1.7), (3.4, 3.9)),
    ("Rough ER", (-2.6, -0.9), (-6.8, -2.2)),
    ("Golgi apparatus", (2.6, -0.3), (5.3, -1.2)),
    ("Lysosome", (0.4, -2.5), (1.5, -4.2)),
    ("Vacuole", (0.8, 2.2), (1.3, 4.2)),
    ("Cytoplasm", (-2.5, -2.3), (-5.0, -4.0)),
]
for text, xy, xytext in labels:
    ax.annotate(text, xy=xy, xytext=xytext, fontsize=11, ha="center",
                arrowprops=dict(arrowstyle="-", color="black", lw=0.8))

ax.set_xlim(-7.8, 7.2)
ax.set_ylim(-4.6, 4.6)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Animal cell (schematic)", fontsize=14)
plt.savefig("cell.png", dpi=150, bbox_inches="tight")
