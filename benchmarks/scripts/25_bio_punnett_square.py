"""Dihybrid cross RrYy x RrYy (round/wrinkled, yellow/green peas): Punnett square of the F2 generation."""
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

gametes = ["RY", "Ry", "rY", "ry"]


def offspring(g1, g2):
    r = "".join(sorted(g1[0] + g2[0]))       # uppercase sorts first: "Rr"
    y = "".join(sorted(g1[1] + g2[1]))
    return r + y


colors = {
    (True, True): "#f9e79f",    # round, yellow
    (True, False): "#abebc6",   # round, green
    (False, True): "#f5cba7",   # wrinkled, yellow
    (False, False): "#aed6f1",  # wrinkled, green
}

cells = [[offspring(a, b) for b in gametes] for a in gametes]
cell_colors = [[colors[("R" in g, "Y" in g)] for g in row] for row in cells]

fig, ax = plt.subplots(figsize=(7, 6))
ax.axis("off")
table = ax.table(cellText=cells, cellColours=cell_colors, rowLabels=gametes, colLabels=gametes,
                 rowColours=["#dddddd"] * 4, colColours=["#dddddd"] * 4,
                 cellLoc="center", loc="center")
table.auto_set_font_size(False)
table.set_fontsize(14)
table.scale(1, 3)

ax.text(0.5, 0.93, "\u2640 gametes (RrYy)", ha="center", fontsize=12, transform=ax.transAxes)
ax.text(-0.06, 0.45, "\u2642 gametes (RrYy)", rotation=90, va="center", fontsize=12,
        transform=ax.transAxes)
legend = [Patch(facecolor=c, edgecolor="gray", label=lab) for c, lab in
          zip(colors.values(), ["round, yellow", "round, green", "wrinkled, yellow", "wrinkled, green"])]
ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=4, fontsize=9, frameon=False)
ax.set_title("Punnett square: RrYy \u00d7 RrYy", fontsize=15, pad=20)
plt.savefig("punnett_square.png", dpi=150, bbox_inches="tight")
plt.show()
