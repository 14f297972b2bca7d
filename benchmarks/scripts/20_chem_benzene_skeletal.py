"""Benzene C6H6: Kekule structure with all atoms and the skeletal resonance hybrid (C-C bond length 139 pm)."""
import numpy as np
import matplotlib.pyplot as plt

ang = np.radians(90 + 60 * np.arange(6))
ring = np.column_stack([np.cos(ang), np.sin(ang)])

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4.5))

# Left: Kekule structure with C and H atoms
for i in range(6):
    p, q = ring[i], ring[(i + 1) % 6]
    ax1.plot(*zip(p, q), color="black", lw=2)
    if i % 2 == 0:   # alternating double bonds drawn as an inner parallel line
        pi, qi = 0.82 * (0.85 * p + 0.15 * q), 0.82 * (0.85 * q + 0.15 * p)
        ax1.plot(*zip(pi, qi), color="black", lw=2)
    h = 1.75 * ring[i]
    ax1.plot(*zip(1.12 * ring[i], 1.55 * ring[i]), color="black", lw=1.5)
    ax1.text(*h, "H", ha="center", va="center", fontsize=14)
    ax1.text(*ring[i], "C", ha="center", va="center", fontsize=14,
             bbox=dict(boxstyle="circle,pad=0.1", fc="white", ec="none"))
ax1.set_title("Kekulé structure")

# Right: skeletal formula with delocalised ring
ax2.plot(*np.vstack([ring, ring[:1]]).T, color="black", lw=2.5)
t = np.linspace(0, 2 * np.pi, 200)
ax2.plot(0.58 * np.cos(t), 0.58 * np.sin(t), color="black", lw=2)
mid = (ring[1] + ring[2]) / 2
ax2.annotate("C\u2013C = 139 pm", xy=mid, xytext=(-2.0, -1.45), fontsize=12,
             arrowprops=dict(arrowstyle="->", color="gray"))
ax2.set_title("Resonance hybrid")

for ax in (ax1, ax2):
    ax.set_xlim(-2.2, 2.2)
    ax.set_ylim(-2.2, 2.2)
    ax.set_aspect("equal")
    ax.axis("off")
fig.suptitle(r"Benzene, $\mathrm{C_6H_6}$", fontsize=15)
plt.show()
