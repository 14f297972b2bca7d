"""Parallel lines cut by a transversal with one angle of 65°: find angle x."""
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot([0, 10], [1, 1], color="black")
ax.plot([0, 10], [4, 4], color="black")
ax.plot([2, 8], [-0.5, 5.5], color="tab:blue")
ax.text(9.6, 1.15, "$l_1$", fontsize=12)
ax.text(9.6, 4.15, "$l_2$", fontsize=12)
ax.annotate("", xy=(6.2, 1), xytext=(5.8, 1), arrowprops=dict(arrowstyle="->"))
ax.annotate("", xy=(6.2, 4), xytext=(5.8, 4), arrowprops=dict(arrowstyle="->"))
ax.text(3.9, 1.25, "65°", fontsize=12)
ax.text(6.0, 3.55, "x", fontsize=13, style="italic")
ax.set_xlim(0, 10.5)
ax.set_ylim(-0.8, 5.8)
ax.axis("off")
plt.savefig("parallel.png", dpi=200, bbox_inches="tight")
