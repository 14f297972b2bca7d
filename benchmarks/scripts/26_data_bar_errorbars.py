"""Mean plant height after 4 weeks under three fertilizers and a control (n = 10, error bars = 1 SD)."""
import numpy as np
import matplotlib.pyplot as plt

groups = ["Control", "Fertilizer A", "Fertilizer B", "Fertilizer C"]
means = np.array([12.4, 15.8, 18.1, 14.2])
sds = np.array([1.2, 1.5, 2.0, 1.1])
colors = ["#9e9e9e", "#4c72b0", "#55a868", "#c44e52"]

fig, ax = plt.subplots(figsize=(7, 5))
bars = ax.bar(groups, means, yerr=sds, capsize=6, color=colors, edgecolor="black",
              error_kw=dict(ecolor="black", lw=1.2))
for bar, m, s in zip(bars, means, sds):
    ax.text(bar.get_x() + bar.get_width() / 2, m + s + 0.4, f"{m:.1f} ± {s:.1f}",
            ha="center", fontsize=10)

ax.set_ylabel("Mean plant height (cm)")
ax.set_ylim(0, 23)
ax.set_title("Effect of fertilizer on plant growth (n = 10 per group)")
ax.spines[["top", "right"]].set_visible(False)
ax.yaxis.grid(True, ls=":", alpha=0.6)
ax.set_axisbelow(True)
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
