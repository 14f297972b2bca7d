"""Hooke's law experiment: spring extension vs applied force with a least-squares line; find the spring constant."""
import numpy as np
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
force = np.arange(0.0, 5.5, 0.5)                       # N
extension = 2.5 * force + rng.normal(0, 0.35, force.size)   # cm
extension[0] = 0.0

slope, intercept = np.polyfit(force, extension, 1)
xf = np.linspace(0, 5.2, 50)

fig, ax = plt.subplots(figsize=(6.5, 4.8))
ax.errorbar(force, extension, yerr=0.3, fmt="o", color="tab:blue", ecolor="gray",
            capsize=3, label="measured")
ax.plot(xf, slope * xf + intercept, "r-", lw=1.8, label="best-fit line")
ax.set_xlabel(r"Applied force $F$ (N)")
ax.set_ylabel(r"Extension $x$ (cm)")
ax.set_title(r"Spring extension vs force ($F = kx$, $k$ = ?)")
ax.set_xlim(0, 5.5)
ax.set_ylim(bottom=0)
ax.grid(alpha=0.3)
ax.legend()
plt.tight_layout()
plt.savefig("hooke_fit.png", dpi=150)
