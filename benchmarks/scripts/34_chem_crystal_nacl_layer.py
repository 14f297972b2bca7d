"""One layer of the NaCl lattice with lattice constant a = 564 pm: find the Na-Cl distance."""
import matplotlib.pyplot as plt
from matplotlib.patches import Circle

fig, ax = plt.subplots(figsize=(5, 5))
n = 5
for i in range(n):
    for j in range(n):
        na = (i + j) % 2 == 0
        ax.add_patch(Circle((i, j), 0.22 if na else 0.34, color="tab:purple" if na else "tab:green", ec="black", lw=0.6))
        ax.text(i, j, "Na$^+$" if na else "Cl$^-$", ha="center", va="center", fontsize=7, color="white")
ax.plot([0, 2], [-0.7, -0.7], color="black")
ax.plot([0, 0], [-0.8, -0.6], color="black")
ax.plot([2, 2], [-0.8, -0.6], color="black")
ax.text(1, -1.05, "a = 564 pm", ha="center")
ax.set_xlim(-0.8, n - 0.2)
ax.set_ylim(-1.3, n - 0.2)
ax.set_aspect("equal")
ax.axis("off")
plt.savefig("nacl.png", bbox_inches="tight")
