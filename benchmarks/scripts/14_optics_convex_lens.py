"""Convex lens with f = 10 cm and an object 6 cm tall placed 30 cm away: locate the image by ray tracing."""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Ellipse

f = 10.0       # focal length (cm)
u = 30.0       # object distance (cm)
h = 6.0        # object height (cm)
v = 1 / (1 / f - 1 / u)          # thin-lens equation (used only to draw the rays)
hi = -h * v / u
x_end = 24.0

fig, ax = plt.subplots(figsize=(10, 4.5))
ax.axhline(0, color="black", lw=1)                        # principal axis
ax.add_patch(Ellipse((0, 0), 1.6, 17, facecolor="#bfe0f5", edgecolor="steelblue", lw=1.5, alpha=0.8))

# Object and image arrows
ax.annotate("", xy=(-u, h), xytext=(-u, 0), arrowprops=dict(arrowstyle="-|>", lw=2.5, color="darkgreen"))
ax.annotate("", xy=(v, hi), xytext=(v, 0),
            arrowprops=dict(arrowstyle="-|>", lw=2.5, color="purple", ls="--"))
ax.text(-u, h + 0.6, "object", ha="center", fontsize=11, color="darkgreen")
ax.text(v + 0.6, hi / 2, "image", ha="left", va="center", fontsize=11, color="purple")

# Three principal rays
ray_kw = dict(color="tab:red", lw=1.3)
# 1) parallel to the axis, then through F'
ax.plot([-u, 0], [h, h], **ray_kw)
ax.plot([0, x_end], [h, h - h / f * x_end], **ray_kw)
# 2) through the optical centre, undeviated
ax.plot([-u, x_end], [h, -h / u * x_end], color="tab:orange", lw=1.3)
# 3) through F, then parallel to the axis
y_lens = h + (0 - h) / (-f + u) * u
ax.plot([-u, 0], [h, y_lens], color="tab:blue", lw=1.3)
ax.plot([0, x_end], [y_lens, y_lens], color="tab:blue", lw=1.3)

# Focal points
for xp, lab in [(-2 * f, r"$2F$"), (-f, r"$F$"), (f, r"$F'$"), (2 * f, r"$2F'$")]:
    ax.plot(xp, 0, "ko", ms=4)
    ax.text(xp, 0.5, lab, ha="center", fontsize=12)
ax.text(0.5, 0.5, "O", fontsize=12)

# Given distances
ax.annotate("", xy=(0, -7.2), xytext=(-u, -7.2), arrowprops=dict(arrowstyle="<->", lw=1))
ax.text(-u / 2, -7.0, r"$u = 30\ \mathrm{cm}$", ha="center", va="bottom", fontsize=12)
ax.annotate("", xy=(f, 7.3), xytext=(0, 7.3), arrowprops=dict(arrowstyle="<->", lw=1))
ax.text(f / 2, 7.5, r"$f = 10\ \mathrm{cm}$", ha="center", va="bottom", fontsize=12)
ax.text(-u, -1.0, r"$h = 6\ \mathrm{cm}$", ha="center", va="top", fontsize=11)

ax.set_xlim(-34, x_end + 1)
ax.set_ylim(-9, 9.5)
ax.axis("off")
ax.set_title("Ray diagram for a converging lens")
plt.savefig("lens_ray_diagram.png", dpi=150, bbox_inches="tight")
