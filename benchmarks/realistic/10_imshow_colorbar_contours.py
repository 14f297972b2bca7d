import numpy as np
import matplotlib.pyplot as plt
from matplotlib.colors import LogNorm

x, y = np.mgrid[-2:2:300j, -2:2:300j]
z = np.exp(-(x**2 + y**2)) * 100 + np.exp(-((x - 1) ** 2 + (y - 1) ** 2) * 4) * 20 + 0.01

fig, ax = plt.subplots(figsize=(6, 5))
im = ax.imshow(z.T, origin="lower", extent=(-2, 2, -2, 2), norm=LogNorm(), cmap="magma")
cs = ax.contour(x, y, z, levels=[0.1, 1, 10, 50], colors="white", linewidths=0.8)
ax.clabel(cs, fmt="%g")
cbar = fig.colorbar(im, ax=ax)
cbar.set_label("intensity (a.u.)")
ax.set_title("Two Gaussian sources, log scale")
plt.savefig("sources.png")
