"""A bag holds 3 red and 2 blue balls; two are drawn without replacement: find P(both the same colour)."""
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 5.5))

root = (0, 0)
first = {"R": (3, 1.6), "B": (3, -1.6)}
second = {
    ("R", "R"): ((6, 2.4), r"$\frac{2}{4}$"), ("R", "B"): ((6, 0.8), r"$\frac{2}{4}$"),
    ("B", "R"): ((6, -0.8), r"$\frac{3}{4}$"), ("B", "B"): ((6, -2.4), r"$\frac{1}{4}$"),
}
p_first = {"R": r"$\frac{3}{5}$", "B": r"$\frac{2}{5}$"}
colors = {"R": "tab:red", "B": "tab:blue"}


def node(xy, text, color):
    ax.text(*xy, text, ha="center", va="center", fontsize=14, color="white", fontweight="bold",
            bbox=dict(boxstyle="circle,pad=0.3", fc=color, ec="black"))


for c, (x, y) in first.items():
    ax.plot([root[0], x], [root[1], y], color="black", lw=1.3, zorder=1)
    ax.text(x / 2 - 0.15, y / 2 + (0.35 if y > 0 else -0.35), p_first[c], fontsize=17,
            ha="center", va="center")
    node((x, y), c, colors[c])

for (c1, c2), ((x, y), p) in second.items():
    x0, y0 = first[c1]
    ax.plot([x0, x], [y0, y], color="black", lw=1.3, zorder=1)
    ax.text((x0 + x) / 2, (y0 + y) / 2 + (0.3 if y > y0 else -0.3), p, fontsize=17,
            ha="center", va="center")
    node((x, y), c2, colors[c2])
    ax.text(x + 0.7, y, f"({c1}, {c2})", va="center", fontsize=13)

ax.plot(*root, "ko", ms=8)
ax.text(-0.2, 0, "Start", ha="right", va="center", fontsize=12)
ax.text(3, 3.1, "1st draw", ha="center", fontsize=12, style="italic")
ax.text(6, 3.1, "2nd draw", ha="center", fontsize=12, style="italic")
ax.text(0, -3.2, "Bag: 3 red (R), 2 blue (B); no replacement", fontsize=12)
ax.set_xlim(-1.2, 8.2)
ax.set_ylim(-3.5, 3.5)
ax.axis("off")
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
