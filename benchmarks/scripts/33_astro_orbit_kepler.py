"""Planet on an elliptical orbit (a = 5 AU, e = 0.6) around a star at one focus: find the period."""
import numpy as np
import matplotlib.pyplot as plt

a, e = 5.0, 0.6
b = a * np.sqrt(1 - e**2)
c = a * e
t = np.linspace(0, 2 * np.pi, 300)

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot(a * np.cos(t), b * np.sin(t), color="navy")
ax.plot(c, 0, marker="*", markersize=18, color="orange")
ax.text(c, -0.6, "Star (M = 1 $M_\\odot$)", ha="center", fontsize=10)
ax.plot(-a, 0, "o", color="tab:blue")
ax.text(-a - 0.2, 0.35, "aphelion", ha="right", fontsize=9)
ax.plot(a, 0, "o", color="tab:blue")
ax.text(a + 0.2, 0.35, "perihelion", fontsize=9)
ax.annotate("", xy=(a, -b - 0.4), xytext=(-a, -b - 0.4), arrowprops=dict(arrowstyle="<->"))
ax.text(0, -b - 0.9, "2a = 10 AU", ha="center")
ax.text(-a, b + 0.3, "e = 0.6", fontsize=11)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Elliptical orbit: T = ?")
plt.savefig("orbit.png", dpi=200, bbox_inches="tight")
