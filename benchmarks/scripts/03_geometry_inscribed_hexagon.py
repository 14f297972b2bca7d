"""Regular hexagon ABCDEF inscribed in a circle of radius 4: find the area of the hexagon."""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Arc

R = 4
angles = np.radians(np.arange(0, 360, 60))
xs, ys = R * np.cos(angles), R * np.sin(angles)

fig, ax = plt.subplots(figsize=(6, 6))
ax.add_patch(plt.Circle((0, 0), R, fill=False, color="black", lw=1.5))
ax.fill(xs, ys, facecolor="#cfe2f3", edgecolor="navy", lw=2)

ax.plot(0, 0, "ko", ms=4)
ax.text(-0.25, -0.55, "O", fontsize=14)

for label, x, y, a in zip("ABCDEF", xs, ys, angles):
    ax.text(x + 0.45 * np.cos(a), y + 0.45 * np.sin(a), label,
            fontsize=15, ha="center", va="center")
    ax.plot([0, x], [0, y], color="gray", ls="--", lw=1)

# Radius OA and the central angle AOB
ax.plot([0, R], [0, 0], color="tab:red", lw=2)
ax.text(2.8, -0.15, "r = 4", fontsize=13, color="tab:red", ha="center", va="top")
ax.add_patch(Arc((0, 0), 2.0, 2.0, theta1=0, theta2=60, color="black", lw=1.2))
ax.text(1.15, 0.55, r"$60^\circ$", fontsize=12)

ax.set_aspect("equal")
ax.set_xlim(-5, 5)
ax.set_ylim(-5, 5)
ax.axis("off")
ax.set_title("Regular hexagon inscribed in a circle")
plt.savefig("hexagon.png", dpi=150, bbox_inches="tight")
