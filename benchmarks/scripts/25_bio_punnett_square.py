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

# Full grid: first row / first column hold the gametes
grid = [[""] + gametes] + [[g] + row for g, row in zip(gametes, cells)]
grid_colors = [["#bbbbbb"] + ["#dddddd"] * 4] + [["#dddddd"] + row for row in cell_colors]

fig, ax = plt.subplots(figsize=(7, 6.5))
ax.axis("off")
table = ax.table(cellText=grid, cellColours=grid_colors, cellLoc="center",
                 bbox=[0.1, 0.12, 0.85, 0.72])
table.auto_set_font_size(False)
table.set_fontsize(14)
for (r, c), cell in table.get_celld().items():
    if r == 0 or c == 0:
        cell.set_text_props(fontweight="bold")

ax.text(0.61, 0.87, "\u2640 gametes (RrYy)", ha="center", fontsize=12, transform=ax.transAxes)
ax.text(0.08, 0.41, "\u2642 gametes (RrYy)", rotation=90, ha="right", va="center", fontsize=12,
        transform=ax.transAxes)
legend = [Patch(facecolor=c, edgecolor="gray", label=lab) for c, lab in
          zip(colors.values(), ["round, yellow", "round, green", "wrinkled, yellow", "wrinkled, green"])]
ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0.08), ncol=4, fontsize=9, frameon=False)
ax.set_title("Punnett square: RrYy \u00d7 RrYy", fontsize=15)
plt.savefig("punnett_square.png", dpi=150, bbox_inches="tight")
plt.show()
