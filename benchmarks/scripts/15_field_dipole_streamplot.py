"""Electric dipole (+q at (-1, 0), -q at (1, 0), d = 2 cm): field lines, equipotentials and the field at P(0, 1.5)."""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Circle

# Grid (units: cm) and point charges (q, x, y)
x = np.linspace(-3, 3, 61)
y = np.linspace(-2.5, 2.5, 51)
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

# Mask the field right at the charges so the field lines stop at the charge
near = np.zeros_like(X, dtype=bool)
for q, cx, cy in charges:
    near |= np.hypot(X - cx, Y - cy) < 0.1
Ex_m = np.ma.masked_where(near, Ex)
Ey_m = np.ma.masked_where(near, Ey)

# Field lines start on a small circle around +q
ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)
seeds = np.column_stack([-1 + 0.2 * np.cos(ang), 0.2 * np.sin(ang)])

fig, ax = plt.subplots(figsize=(8, 6.5))
strm = ax.streamplot(X, Y, Ex_m, Ey_m, color=np.log10(E), cmap="plasma", start_points=seeds,
                     integration_direction="forward", broken_streamlines=False,
                     linewidth=1.2, arrowsize=1.3, arrowstyle="->")
cbar = fig.colorbar(strm.lines, ax=ax, shrink=0.8)
cbar.set_label(r"$\log_{10}|\vec{E}|$ (arb. units)")

levels = [-1, -0.5, -0.25, 0.25, 0.5, 1]
cs = ax.contour(X, Y, V, levels=levels, colors="gray", linewidths=0.8, linestyles="--")
ax.clabel(cs, fmt="%.2f", fontsize=7)
ax.plot([0, 0], [-2.5, 2.5], color="gray", lw=0.8, ls="--")   # V = 0 plane

for q, cx, cy in charges:
    color = "tab:red" if q > 0 else "tab:blue"
    ax.add_patch(Circle((cx, cy), 0.2, color=color, zorder=5))
    ax.text(cx, cy, "+" if q > 0 else "\u2212", color="white", fontsize=15,
            ha="center", va="center", fontweight="bold", zorder=6)
ax.text(-1, -0.55, r"$+q$", ha="center", va="center", fontsize=13, zorder=6,
        bbox=dict(fc="white", ec="none", pad=1))
ax.text(1, -0.55, r"$-q$", ha="center", va="center", fontsize=13, zorder=6,
        bbox=dict(fc="white", ec="none", pad=1))

# Field point P on the perpendicular bisector
ax.plot(0, 1.5, "ks", ms=6, zorder=6)
ax.text(0.12, 1.6, r"$P$", fontsize=14, zorder=6)
ax.annotate("", xy=(1, -0.8), xytext=(-1, -0.8),
            arrowprops=dict(arrowstyle="<->", color="black", lw=1))
ax.text(0, -0.95, r"$d = 2\ \mathrm{cm}$", ha="center", va="top", fontsize=12,
        bbox=dict(fc="white", ec="none", pad=1))
ax.text(-0.08, 0.75, r"$1.5\ \mathrm{cm}$", fontsize=11, rotation=90, va="center", ha="right",
        bbox=dict(fc="white", ec="none", pad=1))

ax.set_xlim(-3, 3)
ax.set_ylim(-2.5, 2.5)
ax.set_aspect("equal")
ax.set_xlabel("x (cm)")
ax.set_ylabel("y (cm)")
ax.set_title(r"Field lines of an electric dipole, $E$ at point $P$ = ?")
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
plt.show()
