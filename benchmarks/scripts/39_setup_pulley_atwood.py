"""Atwood machine: masses 3 kg and 5 kg over a frictionless pulley; find the acceleration."""
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Rectangle

fig, ax = plt.subplots(figsize=(4, 6))
ax.plot([-1.5, 1.5], [6, 6], color="black", lw=3)
ax.plot([0, 0], [6, 5.2], color="black")
ax.add_patch(Circle((0, 5), 0.5, fill=False, lw=2))
ax.plot(0, 5, "ko", ms=3)
ax.plot([-0.5, -0.5], [5, 2.5], color="black")
ax.plot([0.5, 0.5], [5, 1.5], color="black")
ax.add_patch(Rectangle((-0.9, 1.8), 0.8, 0.7, color="tab:blue"))
ax.add_patch(Rectangle((0.1, 0.6), 0.8, 0.9, color="tab:red"))
ax.text(-0.5, 2.15, "3 kg", ha="center", va="center", color="white")
ax.text(0.5, 1.05, "5 kg", ha="center", va="center", color="white")
ax.annotate("", xy=(-1.2, 2.9), xytext=(-1.2, 2.0), arrowprops=dict(arrowstyle="->", color="gray"))
ax.annotate("", xy=(1.2, 0.6), xytext=(1.2, 1.5), arrowprops=dict(arrowstyle="->", color="gray"))
ax.text(1.3, 1.0, "a = ?", fontsize=11)
ax.set_xlim(-2, 2)
ax.set_ylim(0, 6.5)
ax.set_aspect("equal")
ax.axis("off")
plt.savefig("atwood.png", bbox_inches="tight")
