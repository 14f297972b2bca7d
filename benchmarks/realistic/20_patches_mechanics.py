import matplotlib.pyplot as plt
import matplotlib.patches as mpatches
import numpy as np

fig, ax = plt.subplots(figsize=(7, 5))
angle = np.radians(30)
ax.add_patch(mpatches.Polygon([[0, 0], [6, 0], [6, 6 * np.tan(angle)]], closed=True, fc="#dddddd", ec="k"))
block = mpatches.Rectangle((3, 3 * np.tan(angle)), 1.2, 0.8, angle=30, fc="tab:orange", ec="k")
ax.add_patch(block)
cx, cy = 3.2, 3 * np.tan(angle) + 0.75
ax.add_patch(mpatches.FancyArrow(cx, cy, 0, -1.5, width=0.03, color="k"))
ax.text(cx + 0.1, cy - 1.5, "mg", fontsize=12)
ax.add_patch(mpatches.FancyArrow(cx, cy, -0.9 * np.sin(angle), 0.9 * np.cos(angle), width=0.03, color="b"))
ax.text(cx - 0.9, cy + 0.8, "N", color="b", fontsize=12)
ax.add_patch(mpatches.Arc((0, 0), 2, 2, theta1=0, theta2=30))
ax.text(1.1, 0.2, "30°")
ax.set_xlim(-0.5, 6.5)
ax.set_ylim(-0.5, 4.5)
ax.set_aspect("equal")
ax.axis("off")
plt.savefig("incline.png")
