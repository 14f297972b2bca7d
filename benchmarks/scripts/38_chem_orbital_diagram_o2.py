"""Molecular orbital energy diagram of O2: how many unpaired electrons are there?"""
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 6))
levels = [("$\\sigma_{2s}$", 1.0, 2), ("$\\sigma^*_{2s}$", 2.0, 2), ("$\\sigma_{2p}$", 3.0, 2),
          ("$\\pi_{2p}$", 3.6, 4), ("$\\pi^*_{2p}$", 4.6, 2), ("$\\sigma^*_{2p}$", 5.6, 0)]
for name, y, electrons in levels:
    pair = name.startswith("$\\pi")
    xs = [1.6, 2.4] if pair else [2.0]
    for i, x in enumerate(xs):
        ax.plot([x - 0.3, x + 0.3], [y, y], color="black", lw=2)
        n = electrons // len(xs) if electrons % len(xs) == 0 else (1 if i < electrons else 0)
        if n >= 1:
            ax.annotate("", xy=(x - 0.08, y + 0.3), xytext=(x - 0.08, y - 0.05), arrowprops=dict(arrowstyle="->"))
        if n == 2:
            ax.annotate("", xy=(x + 0.08, y - 0.05), xytext=(x + 0.08, y + 0.3), arrowprops=dict(arrowstyle="->"))
    ax.text(3.0, y, name, va="center", fontsize=12)
ax.annotate("", xy=(0.4, 6.0), xytext=(0.4, 0.6), arrowprops=dict(arrowstyle="->"))
ax.text(0.25, 3.3, "Energy", rotation=90, va="center", ha="right")
ax.set_xlim(0, 3.8)
ax.set_ylim(0.5, 6.3)
ax.axis("off")
ax.set_title("O$_2$ (12 valence electrons)")
plt.savefig("mo.png")
