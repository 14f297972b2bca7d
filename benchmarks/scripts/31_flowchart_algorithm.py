"""Program flow chart: S = 0, i = 1; while i <= 10: S = S + i, i = i + 2; output S. What is the output?"""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch, Polygon

fig, ax = plt.subplots(figsize=(7, 8))


def box(x, y, text, style="square,pad=0.3", fc="#e3f2fd", w=2.2, h=0.6):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style,
                                facecolor=fc, edgecolor="black", lw=1.5))
    ax.text(x, y, text, ha="center", va="center", fontsize=13)


def diamond(x, y, text, w=3.0, h=1.4):
    ax.add_patch(Polygon([(x, y + h / 2), (x + w / 2, y), (x, y - h / 2), (x - w / 2, y)],
                         facecolor="#fff3e0", edgecolor="black", lw=1.5))
    ax.text(x, y, text, ha="center", va="center", fontsize=13)


def parallelogram(x, y, text, w=2.2, h=0.8, skew=0.3):
    ax.add_patch(Polygon([(x - w / 2 + skew, y + h / 2), (x + w / 2 + skew, y + h / 2),
                          (x + w / 2 - skew, y - h / 2), (x - w / 2 - skew, y - h / 2)],
                         facecolor="#e8f5e9", edgecolor="black", lw=1.5))
    ax.text(x, y, text, ha="center", va="center", fontsize=13)


def arrow(p, q):
    ax.annotate("", xy=q, xytext=p, arrowprops=dict(arrowstyle="-|>", lw=1.5, mutation_scale=16))


box(0, 10, "Start", style="round,pad=0.3", fc="#f5f5f5", w=1.6)
box(0, 8.6, "S = 0,  i = 1")
diamond(0, 6.9, "i \u2264 10 ?")
box(0, 5.1, "S = S + i")
box(0, 3.8, "i = i + 2")
parallelogram(4.0, 6.9, "Output S")
box(4.0, 5.1, "End", style="round,pad=0.3", fc="#f5f5f5", w=1.6)

arrow((0, 9.65), (0, 8.95))
arrow((0, 8.25), (0, 7.6))
arrow((0, 6.2), (0, 5.45))
arrow((0, 4.75), (0, 4.15))
arrow((1.5, 6.9), (2.75, 6.9))
arrow((4.0, 6.5), (4.0, 5.45))

# Loop back from "i = i + 2" to the decision
ax.plot([-1.4, -2.4, -2.4, 0], [3.8, 3.8, 7.9, 7.9], color="black", lw=1.5)
arrow((-0.6, 7.9), (-0.05, 7.9))
ax.text(0.15, 5.9, "Yes", fontsize=12)
ax.text(1.8, 7.05, "No", fontsize=12)

ax.set_xlim(-3.2, 5.8)
ax.set_ylim(3.0, 10.8)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Program flow chart", fontsize=14)
plt.show()
