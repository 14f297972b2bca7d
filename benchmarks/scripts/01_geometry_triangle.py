"""Triangle ABC with AB = 8, AC = 6 and angle A = 60 degrees: find the length of BC."""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Arc

# Vertices: A at the origin, AB along the x-axis, AC at 60 degrees
A = np.array([0.0, 0.0])
B = np.array([8.0, 0.0])
C = 6 * np.array([np.cos(np.radians(60)), np.sin(np.radians(60))])

fig, ax = plt.subplots(figsize=(6, 4.5))
tri = np.array([A, B, C, A])
ax.plot(tri[:, 0], tri[:, 1], color="black", lw=2)
ax.fill(tri[:, 0], tri[:, 1], color="#dbe9f6", alpha=0.6)

# Vertex labels
ax.text(A[0] - 0.45, A[1] - 0.35, "A", fontsize=16, fontweight="bold")
ax.text(B[0] + 0.15, B[1] - 0.35, "B", fontsize=16, fontweight="bold")
ax.text(C[0] - 0.12, C[1] + 0.2, "C", fontsize=16, fontweight="bold")

# Given side lengths
ax.text(4, -0.45, "AB = 8", ha="center", va="top", fontsize=13)
mid_ac = (A + C) / 2
ax.text(mid_ac[0] - 0.55, mid_ac[1] + 0.3, "AC = 6", ha="center", va="center",
        fontsize=13, rotation=60)
mid_bc = (B + C) / 2
ax.text(mid_bc[0] + 0.35, mid_bc[1] + 0.25, "BC = ?", fontsize=13, color="tab:red")

# Given angle at A
ax.add_patch(Arc(A, 1.8, 1.8, theta1=0, theta2=60, color="tab:blue", lw=1.5))
ax.text(1.05, 0.32, r"$60^\circ$", fontsize=13, color="tab:blue")

ax.set_aspect("equal")
ax.set_xlim(-1, 9.5)
ax.set_ylim(-1.2, 6)
ax.axis("off")
ax.set_title("Triangle ABC", fontsize=14)
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
