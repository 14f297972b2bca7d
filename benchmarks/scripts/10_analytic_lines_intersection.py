"""Lines l1: y = 2x - 1 and l2: y = -x + 5 meet at P: find the coordinates of P."""
import numpy as np
import matplotlib.pyplot as plt

x = np.linspace(-1, 5, 100)
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.plot(x, 2 * x - 1, lw=2, label=r"$l_1:\ y = 2x - 1$")
ax.plot(x, -x + 5, lw=2, label=r"$l_2:\ y = -x + 5$")
ax.plot(2, 3, "ko")
ax.annotate("P", (2, 3), xytext=(2.25, 3.4), fontsize=14)
ax.axhline(0, color="black", lw=0.8); ax.axvline(0, color="black", lw=0.8)
ax.set_xlim(-1, 5); ax.set_ylim(-3, 7)
ax.set_xlabel("x"); ax.set_ylabel("y")
ax.grid(alpha=0.3); ax.legend(loc="upper left")
plt.savefig("lines.png", dpi=150)
