"""Program flow chart: S = 0, i = 1; while i <= 10: S = S + i, i = i + 2; output S. What is the output?"""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch, Polygon

fig, ax = plt.subplots(figsize=(7, 8))


def box(x, y, text, style="square,pad=0.1", fc="#e3f2fd", w=2.2, h=0.6):
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
    ax.annotate("", xy=q, xytext=p, arrowprops=dict(arrowstyle="-|>", color="black", lw=1.5,
                                                    mutation_scale=16, shrinkA=0, shrinkB=0))


box(0, 10, "Start", style="round,pad=0.1", fc="#f5f5f5", w=1.6)
box(0, 8.7, "S = 0,  i = 1")
diamond(0, 7.0, "i \u2264 10 ?")
box(0, 5.3, "S = S + i")
box(0, 3.9, "i = i + 2")
parallelogram(4.0, 7.0, "Output S")
box(4.0, 5.3, "End", style="round,pad=0.1", fc="#f5f5f5", w=1.6)

arrow((0, 9.6), (0, 9.1))
arrow((0, 8.3), (0, 7.7))
arrow((0, 6.3), (0, 5.7))
arrow((0, 4.9), (0, 4.3))
arrow((1.5, 7.0), (2.85, 7.0))
arrow((4.0, 6.6), (4.0, 5.7))

# Loop back from "i = i + 2" to just above the decision
ax.plot([-1.2, -2.4, -2.4, -0.6], [3.9, 3.9, 8.0, 8.0], color="black", lw=1.5)
arrow((-0.6, 8.0), (0, 8.0))
ax.text(0.15, 6.0, "Yes", fontsize=12)
ax.text(1.85, 7.12, "No", fontsize=12)

ax.set_xlim(-3.2, 5.8)
ax.set_ylim(3.2, 10.7)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Program flow chart", fontsize=14)
plt.show()
