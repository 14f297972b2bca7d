"""IR spectrum of an unknown compound with marked bands at 1715 and 2950 cm^-1: identify the group."""
import numpy as np
import matplotlib.pyplot as plt

wn = np.linspace(4000, 500, 700)
T = np.full_like(wn, 95.0)
for center, depth, width in [(2950, 55, 60), (1715, 85, 25), (1460, 35, 20), (1365, 30, 15), (1200, 25, 40)]:
    T -= depth * np.exp(-((wn - center) / width) ** 2)

fig, ax = plt.subplots(figsize=(8, 3.8))
ax.plot(wn, T, color="black", lw=1)
ax.invert_xaxis()
ax.set_xlabel("Wavenumber (cm$^{-1}$)")
ax.set_ylabel("Transmittance (%)")
for center, label in [(2950, "2950"), (1715, "1715")]:
    y = np.interp(center, wn[::-1], T[::-1])
    ax.annotate(label, xy=(center, y), xytext=(center, y - 12), ha="center", arrowprops=dict(arrowstyle="-"))
ax.set_ylim(0, 100)
plt.show()
