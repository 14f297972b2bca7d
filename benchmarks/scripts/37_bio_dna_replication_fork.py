"""DNA replication fork: label the leading and lagging strands and the direction of fork movement."""
import numpy as np
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(8, 4))
x = np.linspace(0, 4, 50)
ax.plot(x, np.full_like(x, 0.15), color="navy", lw=3)
ax.plot(x, np.full_like(x, -0.15), color="darkred", lw=3)
for i in np.arange(0.2, 4, 0.3):
    ax.plot([i, i], [-0.15, 0.15], color="gray", lw=1)
xt = np.linspace(4, 8, 50)
ax.plot(xt, 0.15 + 0.35 * (xt - 4), color="navy", lw=3)
ax.plot(xt, -0.15 - 0.35 * (xt - 4), color="darkred", lw=3)
ax.plot(xt[5:], 0.05 + 0.35 * (xt[5:] - 4), color="tab:blue", lw=2, ls="-")
for start in (4.6, 5.8, 7.0):
    seg = np.linspace(start, start + 0.9, 10)
    ax.plot(seg, -0.05 - 0.35 * (seg - 4), color="tab:orange", lw=2)
ax.text(7.2, 1.3, "leading strand (5'→3')", fontsize=9, color="tab:blue")
ax.text(6.3, -1.55, "Okazaki fragments", fontsize=9, color="tab:orange")
ax.annotate("helicase", xy=(4.05, 0), xytext=(3.2, 0.8), arrowprops=dict(arrowstyle="->"))
ax.annotate("", xy=(2.5, -0.8), xytext=(4.0, -0.8), arrowprops=dict(arrowstyle="->", lw=1.5))
ax.text(3.25, -1.05, "fork movement", ha="center", fontsize=9)
ax.set_xlim(-0.2, 9)
ax.set_ylim(-1.8, 1.8)
ax.axis("off")
plt.savefig("fork.png", dpi=150, bbox_inches="tight")
