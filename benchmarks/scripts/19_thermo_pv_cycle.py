"""Ideal gas taken around the cycle A->B->C->D->A on a P-V diagram: find the net work done per cycle."""
import numpy as np
import matplotlib.pyplot as plt

# State points: (V in 10^-3 m^3, P in 10^5 Pa)
pts = {"A": (1.0, 3.0), "B": (4.0, 3.0), "C": (4.0, 1.0), "D": (1.0, 1.0)}
order = ["A", "B", "C", "D", "A"]

fig, ax = plt.subplots(figsize=(7, 5))
Vs = [pts[k][0] for k in order]
Ps = [pts[k][1] for k in order]
ax.fill(Vs, Ps, color="tab:orange", alpha=0.15)
ax.plot(Vs, Ps, color="black", lw=2)

# Direction arrows at the middle of each process
for p, q in zip(order[:-1], order[1:]):
    (x0, y0), (x1, y1) = pts[p], pts[q]
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    ax.annotate("", xy=(xm + 0.05 * (x1 - x0), ym + 0.05 * (y1 - y0)), xytext=(xm, ym),
                arrowprops=dict(arrowstyle="-|>", color="black", lw=1.5, mutation_scale=20))

offsets = {"A": (-0.25, 0.12), "B": (0.08, 0.12), "C": (0.08, -0.25), "D": (-0.25, -0.25)}
for k, (v, p) in pts.items():
    ax.plot(v, p, "ko", ms=6)
    ax.text(v + offsets[k][0], p + offsets[k][1], k, fontsize=15)
    ax.plot([0, v], [p, p], ls=":", color="gray", lw=1)
    ax.plot([v, v], [0, p], ls=":", color="gray", lw=1)

# Isotherm through A for reference
V = np.linspace(0.8, 4.6, 200)
ax.plot(V, 3.0 / V, color="tab:blue", ls="--", lw=1.2)
ax.text(3.85, 0.4, r"isotherm $T_A$", color="tab:blue", fontsize=11)

ax.text(2.5, 3.15, "isobaric", ha="center", fontsize=11)
ax.text(4.08, 2.0, "isochoric", rotation=90, va="center", fontsize=11)
ax.set_xticks([1, 4])
ax.set_yticks([1, 3])
ax.set_xlim(0, 5)
ax.set_ylim(0, 4)
ax.set_xlabel(r"$V\ (\times 10^{-3}\ \mathrm{m^3})$", fontsize=12)
ax.set_ylabel(r"$P\ (\times 10^{5}\ \mathrm{Pa})$", fontsize=12)
ax.set_title(r"P-V cycle: $W_{net}$ = ?")
ax.spines[["top", "right"]].set_visible(False)
plt.savefig("pv_cycle.png", dpi=150, bbox_inches="tight")
