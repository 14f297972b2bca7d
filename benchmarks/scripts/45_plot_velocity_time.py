"""Velocity-time graph of a cart: find the displacement in the first 8 s."""
import matplotlib.pyplot as plt

t = [0, 2, 6, 8]
v = [0, 4, 4, 0]
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(t, v, color="tab:blue", lw=2, marker="o")
ax.set_xlabel("t (s)")
ax.set_ylabel("v (m/s)")
ax.set_xlim(0, 9)
ax.set_ylim(0, 5)
ax.grid(True, ls=":")
for ti, vi in zip(t, v):
    ax.annotate(f"({ti}, {vi})", (ti, vi), xytext=(4, 6), textcoords="offset points", fontsize=9)
plt.savefig("vt.png", dpi=150)
