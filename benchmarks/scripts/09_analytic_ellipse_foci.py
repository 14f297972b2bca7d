"""Ellipse x^2/25 + y^2/9 = 1 with foci F1, F2 and a point P on it: find the perimeter of triangle PF1F2."""
import numpy as np
import matplotlib.pyplot as plt

a, b = 5.0, 3.0
c = np.sqrt(a**2 - b**2)
t = np.linspace(0, 2 * np.pi, 400)

F1, F2 = np.array([-c, 0.0]), np.array([c, 0.0])
tp = np.radians(50)
P = np.array([a * np.cos(tp), b * np.sin(tp)])

fig, ax = plt.subplots(figsize=(8, 5.5))
ax.plot(a * np.cos(t), b * np.sin(t), color="navy", lw=2)
ax.axhline(0, color="black", lw=0.8)
ax.axvline(0, color="black", lw=0.8)

# Focal radii and the triangle PF1F2
ax.fill([F1[0], F2[0], P[0]], [F1[1], F2[1], P[1]], color="orange", alpha=0.25)
ax.plot([F1[0], P[0], F2[0]], [F1[1], P[1], F2[1]], color="darkorange", lw=1.8)

# Semi-axes
ax.plot([0, a], [0, 0], color="tab:green", lw=2.5)
ax.plot([0, 0], [0, b], color="tab:purple", lw=2.5)
ax.text(a / 2 - 0.5, -0.55, r"$a = 5$", color="tab:green", fontsize=13, ha="center")
ax.text(-0.2, b / 2, r"$b = 3$", color="tab:purple", fontsize=13, ha="right")

for pt, lab, off in [(F1, r"$F_1$", (-0.2, -0.6)), (F2, r"$F_2$", (-0.2, -0.6)),
                     (P, r"$P$", (0.15, 0.15))]:
    ax.plot(*pt, "ko", ms=5)
    ax.text(pt[0] + off[0], pt[1] + off[1], lab, fontsize=14)

ax.text(-6.3, 3.4, r"$\frac{x^2}{25} + \frac{y^2}{9} = 1$", fontsize=16)
ax.set_xlim(-6.5, 6.5)
ax.set_ylim(-4, 4.3)
ax.set_aspect("equal")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title("Ellipse with foci on the x-axis")
plt.show()
