"""Block of mass 2 kg on a 30-degree incline with friction coefficient 0.2: free-body diagram."""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Polygon, Rectangle, Arc

theta = np.radians(30)
L = 8.0
u = np.array([np.cos(theta), np.sin(theta)])      # along the slope (up)
n = np.array([-np.sin(theta), np.cos(theta)])     # normal to the slope

fig, ax = plt.subplots(figsize=(8, 5.5))

# Incline (right triangle) and ground
ax.add_patch(Polygon([(0, 0), (L, 0), (L, L * np.tan(theta))], closed=True,
                     facecolor="#e8e2d0", edgecolor="black", lw=2))
ax.plot([-0.8, L + 0.8], [0, 0], color="black", lw=2)

# Block resting on the slope
w, h = 1.6, 1.0
corner = 4.2 * u
ax.add_patch(Rectangle(corner, w, h, angle=np.degrees(theta), rotation_point="xy",
                       facecolor="#7fa7d9", edgecolor="black", lw=1.8, zorder=3))
center = corner + (w / 2) * u + (h / 2) * n
ax.plot(*center, "ko", ms=4, zorder=5)


def force(vec, label, color, offset, ls="-"):
    end = center + vec
    ax.annotate("", xy=end, xytext=center, zorder=6,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=2.2 if ls == "-" else 1.4,
                                ls=ls, mutation_scale=18))
    ax.text(end[0] + offset[0], end[1] + offset[1], label, color=color, fontsize=14,
            ha="center", va="center", zorder=6)


g = 2.4
force(np.array([0, -g]), r"$mg$", "tab:red", (0.0, -0.3))
force(g * np.cos(theta) * n, r"$F_N$", "tab:blue", (-0.2, 0.25))
force(1.3 * u, r"$f$", "tab:green", (0.25, 0.15))
force(-g * np.cos(theta) * n, r"$mg\cos\theta$", "gray", (0.8, -0.15), ls="--")
force(-g * np.sin(theta) * u, r"$mg\sin\theta$", "gray", (-0.6, 0.3), ls="--")

# Angle of the incline
ax.add_patch(Arc((0, 0), 3.0, 3.0, theta1=0, theta2=30, lw=1.5))
ax.text(1.75, 0.3, r"$\theta = 30^\circ$", fontsize=13)

ax.text(0.2, 4.6, r"$m = 2\ \mathrm{kg}$" + "\n" + r"$\mu = 0.2$", fontsize=13,
        bbox=dict(boxstyle="round", fc="white", ec="gray"))
ax.set_xlim(-1, L + 1)
ax.set_ylim(-0.8, 5.5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Free-body diagram: block on an incline")
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
