"""RC charging circuit (E = 9 V, R = 2 kOhm, C = 50 uF): find the time constant after switch S closes."""
import numpy as np
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7.5, 5))
lw = 2


def line(*pts, **kw):
    xs, ys = zip(*pts)
    ax.plot(xs, ys, color=kw.get("color", "black"), lw=kw.get("lw", lw))


# 电源 (battery) on the left side
line((-0.5, 2.2), (0.5, 2.2))
line((-0.25, 1.8), (0.25, 1.8), lw=4)
line((0, 2.2), (0, 4), (1.0, 4))
line((0, 1.8), (0, 0), (7, 0), (7, 1.85))

# 开关 S (open switch)
ax.plot([1.0, 2.0], [4, 4], "o", color="black", mfc="white", ms=7, zorder=3)
line((1.0, 4), (1.85, 4.5))
line((2.0, 4), (3.0, 4))

# 电阻 R (zigzag)
n, w = 6, 0.22
xz = np.linspace(3.3, 5.2, 2 * n + 1)
yz = 4 + np.array([0] + [w if i % 2 == 0 else -w for i in range(2 * n - 1)] + [0])
line((3.0, 4), (3.3, 4))
ax.plot(xz, yz, color="black", lw=lw)
line((5.2, 4), (7, 4), (7, 2.15))

# 电容 C (two parallel plates)
line((6.4, 2.15), (7.6, 2.15))
line((6.4, 1.85), (7.6, 1.85))

# 电流方向
ax.annotate("", xy=(7, 2.9), xytext=(7, 3.7),
            arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=1.8, mutation_scale=16))
ax.text(7.2, 3.3, "电流 I", color="tab:red", fontsize=12, va="center")

ax.text(-0.7, 2.0, "电源\nE = 9 V", ha="right", va="center", fontsize=13)
ax.text(1.5, 4.75, "开关 S", ha="center", fontsize=13)
ax.text(4.25, 4.45, "电阻 R = 2 kΩ", ha="center", fontsize=13)
ax.text(7.8, 2.0, "电容 C = 50 μF", ha="left", va="center", fontsize=13)
ax.text(0.45, 2.35, "+", fontsize=13)

ax.set_xlim(-2.2, 10.5)
ax.set_ylim(-0.5, 5.3)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("RC 充电电路", fontsize=15)
plt.show()
