import numpy as np
import matplotlib.pyplot as plt
from mpl_toolkits.axes_grid1.inset_locator import inset_axes

theta = np.linspace(0, 2 * np.pi, 361)
r = np.abs(np.cos(2 * theta)) ** 1.5

fig = plt.figure(figsize=(9, 4))
ax1 = fig.add_subplot(1, 2, 1, projection="polar")
ax1.plot(theta, r)
ax1.fill(theta, r, alpha=0.3)
ax1.set_title("Radiation pattern")
ax2 = fig.add_subplot(1, 2, 2)
x = np.linspace(0, 10, 500)
ax2.plot(x, np.sinc(x - 5))
ax2.set_title("sinc with a zoom")
inset = inset_axes(ax2, width="40%", height="35%", loc="upper right")
inset.plot(x, np.sinc(x - 5))
inset.set_xlim(4, 6)
inset.set_ylim(0.6, 1.05)
inset.tick_params(labelsize=6)
plt.savefig("polar.png")
