"""A meadow food web: which organisms are secondary consumers?"""
import matplotlib.pyplot as plt

nodes = {
    "Grass": (0, 0), "Clover": (3, 0),
    "Grasshopper": (-0.5, 1.5), "Rabbit": (1.5, 1.5), "Mouse": (3.5, 1.5),
    "Frog": (-0.5, 3), "Snake": (2.5, 3), "Hawk": (1.5, 4.5),
}
edges = [("Grass", "Grasshopper"), ("Grass", "Rabbit"), ("Clover", "Rabbit"), ("Clover", "Mouse"),
         ("Grasshopper", "Frog"), ("Frog", "Snake"), ("Mouse", "Snake"), ("Rabbit", "Hawk"),
         ("Snake", "Hawk"), ("Mouse", "Hawk")]

fig, ax = plt.subplots(figsize=(6, 6))
for src, dst in edges:
    ax.annotate("", xy=nodes[dst], xytext=nodes[src],
                arrowprops=dict(arrowstyle="-|>", color="gray", shrinkA=18, shrinkB=18))
for name, (x, y) in nodes.items():
    ax.text(x, y, name, ha="center", va="center", fontsize=10,
            bbox=dict(boxstyle="round,pad=0.4", fc="honeydew" if y == 0 else "lightyellow", ec="gray"))
ax.set_xlim(-1.5, 4.5)
ax.set_ylim(-0.7, 5.2)
ax.axis("off")
ax.set_title("Arrows point from food to feeder")
