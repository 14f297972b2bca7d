"""Of 40 students, 25 study physics, 18 study chemistry and 8 study both: how many study neither?"""
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Rectangle

fig, ax = plt.subplots(figsize=(6, 4.5))
ax.add_patch(Rectangle((-3.2, -2.3), 6.4, 4.6, fill=False, lw=1.5))
ax.add_patch(Circle((-0.8, 0), 1.6, color="tab:blue", alpha=0.35))
ax.add_patch(Circle((0.8, 0), 1.6, color="tab:orange", alpha=0.35))
ax.text(-1.6, 1.75, "Physics (25)", ha="center", fontsize=12)
ax.text(1.6, 1.75, "Chemistry (18)", ha="center", fontsize=12)
ax.text(0, 0, "8", ha="center", va="center", fontsize=16)
ax.text(-3.05, -2.15, "U: 40 students", fontsize=11)
ax.text(2.6, -1.9, "?", fontsize=16)
ax.set_xlim(-3.4, 3.4); ax.set_ylim(-2.5, 2.5)
ax.set_aspect("equal"); ax.axis("off")
