"""A three-state Markov chain with transition probabilities: find the stationary probability of B."""
import matplotlib.pyplot as plt

pos = {"A": (0, 0), "B": (4, 0), "C": (2, 3)}
edges = [("A", "B", "0.5"), ("B", "C", "0.7"), ("C", "A", "1.0"), ("B", "A", "0.3"), ("A", "C", "0.5")]
fig, ax = plt.subplots(figsize=(5, 4.2))
for name, (x, y) in pos.items():
    ax.add_patch(plt.Circle((x, y), 0.45, fc="lavender", ec="black"))
    ax.text(x, y, name, ha="center", va="center", fontsize=14)
for src, dst, p in edges:
    (x0, y0), (x1, y1) = pos[src], pos[dst]
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops=dict(arrowstyle="-|>", shrinkA=16, shrinkB=16, connectionstyle="arc3,rad=0.2"))
    ax.text((x0 + x1) / 2 + 0.25 * (y1 - y0) / 3, (y0 + y1) / 2 - 0.25 * (x1 - x0) / 3, p, fontsize=10)
ax.set_xlim(-1, 5)
ax.set_ylim(-1, 4)
ax.set_aspect("equal")
ax.axis("off")
