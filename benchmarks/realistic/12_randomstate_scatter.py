import numpy as np
import matplotlib.pyplot as plt

rs = np.random.RandomState(0)
unseeded = np.random.RandomState()
pts = rs.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=300)
jitter = unseeded.normal(0, 0.05, size=pts.shape)
assert isinstance(rs, np.random.RandomState) and isinstance(np.random.mtrand._rand, np.random.RandomState)
gen = np.random.default_rng()
assert isinstance(gen, np.random.Generator)
colors = gen.random(300)
plt.scatter(pts[:, 0] + jitter[:, 0], pts[:, 1] + jitter[:, 1], c=colors, cmap="viridis", s=12)
plt.colorbar(label="random colour")
plt.gca().set_aspect("equal")
plt.title("Correlated Gaussian, ρ = 0.8")
plt.savefig("scatter.png")
