"""Electric dipole (+q at (-1, 0), -q at (1, 0), d = 2 cm): field lines, equipotentials and the field at P(0, 1.5)."""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Circle

# Grid (units: cm) and point charges (q, x, y)
x = np.linspace(-3, 3, 150)
y = np.linspace(-2.5, 2.5, 125)
X, Y = np.meshgrid(x, y)
charges = [(+1.0, -1.0, 0.0), (-1.0, 1.0, 0.0)]

Ex = np.zeros_like(X)
Ey = np.zeros_like(X)
V = np.zeros_like(X)
for q, cx, cy in charges:
    dx, dy = X - cx, Y - cy
    r2 = dx**2 + dy**2 + 1e-6
    r3 = r2 ** 1.5
    Ex += q * dx / r3
    Ey += q * dy / r3
    V += q / np.sqrt(r2)
E = np.hypot(Ex, Ey)

fig, ax = plt.subplots(figsize=(8, 6.5))
strm = ax.streamplot(X, Y, Ex, Ey, color=np.log10(E), cmap="plasma", density=1.4,
                     linewidth=1.0, arrowsize=1.2, arrowstyle="->")
cbar = fig.colorbar(strm.lines, ax=ax, shrink=0.8)
cbar.set_label(r"$\log_{10}|\vec{E}|$ (arb. units)")

levels = [-2, -1, -0.5, -0.25, 0.25, 0.5, 1, 2]
cs = ax.contour(X, Y, V, levels=levels, colors="gray", linewidths=0.8, linestyles="--")
ax.clabel(cs, fmt="%.2f", fontsize=7)
ax.plot([0, 0], [-2.5, 2.5], color="gray", lw=0.8, ls="--")   # V = 0 plane

for q, cx, cy in charges:
    color = "tab:red" if q > 0 else "tab:blue"
    ax.add_patch(Circle((cx, cy), 0.16, color=color, zorder=5))
    ax.text(cx, cy, "+" if q > 0 else "\u2212", color="white", fontsize=15,
            ha="center", va="center", fontweight="bold", zorder=6)
ax.text(-1, -0.45, r"$+q$", ha="center", fontsize=13, zorder=6)
ax.text(1, -0.45, r"$-q$", ha="center", fontsize=13, zorder=6)

# Field point P on the perpendicular bisector
ax.plot(0, 1.5, "ks", ms=6, zorder=6)
ax.text(0.12, 1.6, r"$P$", fontsize=14, zorder=6)
ax.annotate("", xy=(1, -0.8), xytext=(-1, -0.8),
            arrowprops=dict(arrowstyle="<->", color="black", lw=1))
ax.text(0, -0.95, r"$d = 2\ \mathrm{cm}$", ha="center", va="top", fontsize=12)
ax.text(0.1, 0.75, r"$1.5\ \mathrm{cm}$", fontsize=11, rotation=90, va="center")

ax.set_xlim(-3, 3)
ax.set_ylim(-2.5, 2.5)
ax.set_aspect("equal")
ax.set_xlabel("x (cm)")
ax.set_ylabel("y (cm)")
ax.set_title(r"Field lines of an electric dipole, $E$ at point $P$ = ?")
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
plt.show()
