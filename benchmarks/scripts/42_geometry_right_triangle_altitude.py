"""Right triangle ABC (right angle at C) with legs 6 and 8 and altitude CD to the hypotenuse: find CD."""
import matplotlib.pyplot as plt

A, B, C = (0, 0), (10, 0), (3.6, 4.8)
D = (3.6, 0)
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot([A[0], B[0], C[0], A[0]], [A[1], B[1], C[1], A[1]], color="black")
ax.plot([C[0], D[0]], [C[1], D[1]], color="tab:red", ls="--")
ax.plot([3.6, 3.9, 3.9], [0.3, 0.3, 0], color="black", lw=0.8)
for name, (x, y), off in [("A", A, (-0.4, -0.3)), ("B", B, (0.15, -0.3)), ("C", C, (-0.1, 0.2)), ("D", D, (-0.1, -0.45))]:
    ax.text(x + off[0], y + off[1], name, fontsize=12)
ax.text(1.4, 2.7, "6", fontsize=12)
ax.text(7.0, 2.7, "8", fontsize=12)
ax.text(3.75, 2.2, "?", fontsize=12, color="tab:red")
ax.set_aspect("equal")
ax.axis("off")
plt.show()
