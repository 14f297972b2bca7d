"""Regular tetrahedron ABCD with edge length 2: find the height DG from D to face ABC."""
import numpy as np
import matplotlib.pyplot as plt
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

a = 2.0
A = np.array([0.0, 0.0, 0.0])
B = np.array([a, 0.0, 0.0])
C = np.array([a / 2, a * np.sqrt(3) / 2, 0.0])
G = (A + B + C) / 3                       # centroid of the base
D = G + np.array([0.0, 0.0, a * np.sqrt(2.0 / 3.0)])

fig = plt.figure(figsize=(6, 6))
ax = fig.add_subplot(projection="3d")

faces = [[A, B, C], [A, B, D], [B, C, D], [A, C, D]]
ax.add_collection3d(Poly3DCollection(faces, facecolors="#9ecae1", edgecolors="k",
                                     linewidths=1.5, alpha=0.25))

# Height from D to the base
ax.plot(*zip(D, G), color="tab:red", ls="--", lw=1.8)
ax.scatter(*G, color="tab:red", s=20)

for name, p, off in [("A", A, (-0.15, -0.1, 0)), ("B", B, (0.1, -0.05, 0)),
                     ("C", C, (0.0, 0.12, 0)), ("D", D, (0.0, 0.0, 0.12)),
                     ("G", G, (0.08, 0.0, -0.12))]:
    ax.text(*(p + np.array(off)), name, fontsize=14)

ax.text(1.0, -0.35, 0.0, "AB = 2", fontsize=11)
ax.set_title("Regular tetrahedron, edge a = 2")
ax.set_xlim(0, 2); ax.set_ylim(-0.2, 1.8); ax.set_zlim(0, 1.8)
ax.set_box_aspect((1, 1, 0.9))
ax.view_init(elev=18, azim=-100)
ax.set_axis_off()
fig.savefig("tetrahedron.png", dpi=150, bbox_inches="tight")
