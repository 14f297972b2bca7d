import numpy as np
import matplotlib.pyplot as plt
from mpl_toolkits.mplot3d import Axes3D  # noqa: F401  (registers the projection in old code)
from matplotlib import cm

x = np.linspace(-3, 3, 60)
y = np.linspace(-3, 3, 60)
X, Y = np.meshgrid(x, y)
Z = np.sin(np.sqrt(X**2 + Y**2)) * np.exp(-0.1 * (X**2 + Y**2))

fig = plt.figure(figsize=(8, 6))
ax = fig.add_subplot(111, projection="3d")
surf = ax.plot_surface(X, Y, Z, cmap=cm.coolwarm, linewidth=0, antialiased=True)
ax.contour(X, Y, Z, zdir="z", offset=-1, cmap=cm.coolwarm)
ax.set_zlim(-1, 1)
ax.set_xlabel("x (m)")
ax.set_ylabel("y (m)")
ax.set_zlabel("displacement (mm)")
ax.view_init(elev=30, azim=-60)
fig.colorbar(surf, shrink=0.5, aspect=10, label="mm")
plt.title("Damped radial wave")
plt.savefig("surface.png", dpi=150, bbox_inches="tight")
