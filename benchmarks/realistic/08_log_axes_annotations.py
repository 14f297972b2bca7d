import numpy as np
import matplotlib.pyplot as plt

f = np.logspace(1, 6, 400)
R, C = 1e3, 1e-7
H = 1 / np.sqrt(1 + (2 * np.pi * f * R * C) ** 2)
fc = 1 / (2 * np.pi * R * C)

fig, ax = plt.subplots()
ax.loglog(f, H, lw=2)
ax.axvline(fc, color="gray", ls=":")
ax.annotate(
    f"$f_c$ = {fc:.0f} Hz",
    xy=(fc, 1 / np.sqrt(2)),
    xytext=(fc * 5, 0.9),
    arrowprops=dict(arrowstyle="->", color="black"),
)
ax.set_xlabel("frequency (Hz)")
ax.set_ylabel("|H(f)|")
ax.grid(True, which="both", ls="--", alpha=0.4)
ax.set_title("RC low-pass filter")
fig.savefig("bode.png")
