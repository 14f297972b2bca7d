"""Projectile launched from a 15 m platform at 20 m/s and 30 degrees (g = 10 m/s^2): find the horizontal range."""
import numpy as np
import matplotlib.pyplot as plt

v0, theta_deg, h, g = 20.0, 30.0, 15.0, 10.0
th = np.radians(theta_deg)
vx, vy = v0 * np.cos(th), v0 * np.sin(th)
t_land = (vy + np.sqrt(vy**2 + 2 * g * h)) / g
t = np.linspace(0, t_land, 200)
x = vx * t
y = h + vy * t - 0.5 * g * t**2

fig, ax = plt.subplots(figsize=(8, 5))
ax.fill_between([-4, 0], 0, h, color="#c8b89a", edgecolor="black")       # 平台
ax.plot(x, y, color="tab:blue", lw=2, label="运动轨迹")
ax.axhline(0, color="black", lw=1.5)

# 初速度 arrow and launch angle
ax.annotate("", xy=(6 * np.cos(th), h + 6 * np.sin(th)), xytext=(0, h),
            arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=2, mutation_scale=18))
ax.plot([0, 7], [h, h], color="gray", ls="--", lw=1)
ax.text(-7.5, h + 6.0, "初速度 v₀ = 20 m/s", color="tab:red", fontsize=12)
ax.text(7.0, h + 0.4, "θ = 30°", fontsize=12)

# 最高点 and 落地点
i_top = np.argmax(y)
ax.plot(x[i_top], y[i_top], "o", color="tab:orange")
ax.text(x[i_top], y[i_top] + 1.2, "最高点", ha="center", fontsize=12)
ax.plot(x[-1], 0, "o", color="tab:green")
ax.text(x[-1] + 0.8, 1.0, "落地点", ha="left", fontsize=12)
ax.annotate("", xy=(x[-1], -2.5), xytext=(0, -2.5), arrowprops=dict(arrowstyle="<->", lw=1))
ax.text(x[-1] / 2, -3.0, "水平距离 x = ?", ha="center", va="top", fontsize=12)

ax.annotate("", xy=(-4.6, h), xytext=(-4.6, 0), arrowprops=dict(arrowstyle="<->", lw=1))
ax.text(-5.0, h / 2, "高度 h = 15 m", rotation=90, ha="right", va="center", fontsize=12)
ax.text(20, 6, "g = 10 m/s²", fontsize=12)

ax.set_xlim(-8, x[-1] + 5)
ax.set_ylim(-6, 24)
ax.set_xlabel("水平位移 x / m")
ax.set_ylabel("竖直高度 y / m")
ax.set_title("斜抛运动轨迹")
ax.legend(loc="upper right")
ax.grid(alpha=0.3)
plt.show()
