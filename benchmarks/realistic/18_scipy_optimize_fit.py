import numpy as np
import matplotlib.pyplot as plt
from scipy.optimize import curve_fit


def decay(t, n0, lam):
    return n0 * np.exp(-lam * t)


rng = np.random.RandomState(21)
t = np.linspace(0, 10, 25)
counts = rng.poisson(decay(t, 1000, 0.35))
popt, pcov = curve_fit(decay, t, counts, p0=(900, 0.3), sigma=np.sqrt(counts + 1))
perr = np.sqrt(np.diag(pcov))

plt.errorbar(t, counts, yerr=np.sqrt(counts), fmt="o", capsize=3, label="counts")
tt = np.linspace(0, 10, 200)
plt.plot(tt, decay(tt, *popt), label=rf"fit: $\lambda$ = {popt[1]:.3f} $\pm$ {perr[1]:.3f} s$^{{-1}}$")
plt.yscale("log")
plt.xlabel("t (s)")
plt.ylabel("counts per bin")
plt.legend()
plt.title(f"Half-life ≈ {np.log(2) / popt[1]:.2f} s")
plt.savefig("decay.png")
