import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

rs = np.random.RandomState(5)
sample = stats.gamma.rvs(a=2.5, scale=1.3, size=600, random_state=rs)
a, loc, scale = stats.gamma.fit(sample, floc=0)
x = np.linspace(0, sample.max(), 300)
kde = stats.gaussian_kde(sample)

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.hist(sample, bins=40, density=True, alpha=0.5, label="sample (n=600)")
ax.plot(x, stats.gamma.pdf(x, a, loc, scale), "r-", lw=2, label=f"gamma fit: k={a:.2f}, θ={scale:.2f}")
ax.plot(x, kde(x), "k--", label="KDE")
ax.set_xlabel("waiting time (min)")
ax.set_ylabel("density")
ax.legend()
res = stats.kstest(sample, "gamma", args=(a, loc, scale))
ax.annotate(f"KS p = {res.pvalue:.3f}", xy=(0.7, 0.5), xycoords="axes fraction")
plt.savefig("stats.png")
