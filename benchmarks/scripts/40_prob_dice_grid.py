"""Sample space of two dice: highlight the outcomes whose sum is 8."""
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 5))
for i in range(1, 7):
    for j in range(1, 7):
        hit = i + j == 8
        ax.add_patch(plt.Rectangle((i - 0.5, j - 0.5), 1, 1, fc="gold" if hit else "white", ec="gray"))
        ax.text(i, j, f"({i},{j})", ha="center", va="center", fontsize=8)
ax.set_xlim(0.5, 6.5)
ax.set_ylim(0.5, 6.5)
ax.set_xticks(range(1, 7))
ax.set_yticks(range(1, 7))
ax.set_xlabel("first die")
ax.set_ylabel("second die")
ax.set_aspect("equal")
ax.set_title("P(sum = 8) = ?")
plt.show()
