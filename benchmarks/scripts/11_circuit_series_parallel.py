"""Circuit: 12 V battery, R1 = 4 ohm in series with R2 = 6 ohm || R3 = 3 ohm; find the total current I."""
import numpy as np
import matplotlib.pyplot as plt


def wire(ax, *pts):
    xs, ys = zip(*pts)
    ax.plot(xs, ys, color="black", lw=2, solid_capstyle="round")


def resistor(ax, p0, p1, n=6, w=0.22, lead=0.2):
    """Zigzag resistor between p0 and p1 (straight leads at both ends)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    L = np.linalg.norm(d)
    u, nrm = d / L, np.array([-d[1], d[0]]) / L
    zig = lead + (1 - 2 * lead) * (np.arange(n) + 0.5) / n
    t = np.concatenate([[0.0, lead], zig, [1 - lead, 1.0]])
    off = np.zeros_like(t)
    off[2:-2] = w * (-1.0) ** np.arange(n)
    pts = p0 + np.outer(t * L, u) + np.outer(off, nrm)
    ax.plot(pts[:, 0], pts[:, 1], color="black", lw=2)


def battery(ax, x, y, gap=0.3):
    """Vertical cell: long (+) plate on top, short (-) plate below."""
    ax.plot([x - 0.45, x + 0.45], [y + gap / 2] * 2, color="black", lw=2)
    ax.plot([x - 0.22, x + 0.22], [y - gap / 2] * 2, color="black", lw=4)
    ax.text(x + 0.55, y + gap / 2, "+", fontsize=14, va="center")
    ax.text(x + 0.4, y - gap / 2 - 0.05, "\u2212", fontsize=14, va="center")


def current_arrow(ax, start, end, label, offset):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=1.8, mutation_scale=16))
    mid = (np.asarray(start) + np.asarray(end)) / 2
    ax.text(mid[0] + offset[0], mid[1] + offset[1], label, color="tab:red", fontsize=13, ha="center")


fig, ax = plt.subplots(figsize=(8, 4.5))

# Battery on the left branch
battery(ax, 0, 2)
wire(ax, (0, 2.15), (0, 4), (1.5, 4))
wire(ax, (0, 1.85), (0, 0), (9, 0), (9, 2.5))

# Series resistor R1
resistor(ax, (1.5, 4), (3.5, 4))
wire(ax, (3.5, 4), (6, 4))

# Parallel combination R2 || R3
resistor(ax, (6, 4), (8, 4))
wire(ax, (8, 4), (9, 4), (9, 2.5))
wire(ax, (5, 4), (5, 2.5), (6, 2.5))
resistor(ax, (6, 2.5), (8, 2.5))
wire(ax, (8, 2.5), (9, 2.5))
for node in [(5, 4), (9, 2.5)]:
    ax.plot(*node, "ko", ms=7)

ax.text(2.5, 4.4, r"$R_1 = 4\,\Omega$", ha="center", fontsize=13)
ax.text(7, 4.4, r"$R_2 = 6\,\Omega$", ha="center", fontsize=13)
ax.text(7, 1.85, r"$R_3 = 3\,\Omega$", ha="center", fontsize=13)
ax.text(-0.6, 2, r"$\varepsilon = 12\ \mathrm{V}$", ha="right", va="center", fontsize=13)

current_arrow(ax, (0.3, 4), (1.2, 4), r"$I$", (0, 0.25))
current_arrow(ax, (8.1, 4), (8.8, 4), r"$I_2$", (0, 0.2))
current_arrow(ax, (8.1, 2.5), (8.8, 2.5), r"$I_3$", (0, -0.5))

ax.set_xlim(-2.2, 10)
ax.set_ylim(-0.6, 5)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Series-parallel circuit")
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
