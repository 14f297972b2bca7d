"""(a) A wave with A = 5 cm, wavelength 0.8 m and v = 4 m/s: find its period; (b) third harmonic on a 1.2 m string."""
import numpy as np
import matplotlib.pyplot as plt

fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 7))

# (a) Travelling sine wave
A, lam = 5.0, 0.8
x = np.linspace(0, 2.0, 500)
ax1.plot(x, A * np.sin(2 * np.pi * x / lam), color="tab:blue", lw=2)
ax1.plot([0, 2.2], [0, 0], color="black", lw=0.8)
ax1.annotate("", xy=(1.0, 6.5), xytext=(0.2, 6.5), arrowprops=dict(arrowstyle="<->", lw=1.2))
ax1.text(0.6, 6.9, r"$\lambda = 0.8\ \mathrm{m}$", ha="center", fontsize=12)
for xc in (0.2, 1.0):
    ax1.plot([xc, xc], [A, 6.5], color="gray", ls=":", lw=1)
ax1.plot([1.8, 2.15], [A, A], color="gray", ls=":", lw=1)
ax1.annotate("", xy=(2.1, A), xytext=(2.1, 0), arrowprops=dict(arrowstyle="<->", lw=1.2, color="tab:red"))
ax1.text(2.14, A / 2, r"$A = 5\ \mathrm{cm}$", color="tab:red", fontsize=12, va="center")
ax1.annotate("", xy=(1.55, -7.2), xytext=(1.2, -7.2),
             arrowprops=dict(arrowstyle="-|>", lw=1.8, color="darkgreen"))
ax1.text(1.6, -7.2, r"$v = 4\ \mathrm{m/s}$", color="darkgreen", fontsize=12, va="center")
ax1.set_xlim(0, 2.55)
ax1.set_ylim(-8.5, 8.5)
ax1.set_xlabel("x (m)")
ax1.set_ylabel("y (cm)")
ax1.set_title("(a) Travelling wave at t = 0")

# (b) Standing wave, third harmonic, shown at several instants
L, nloops = 1.2, 3
xs = np.linspace(0, L, 400)
shape = np.sin(nloops * np.pi * xs / L)
for phase in np.linspace(0, np.pi, 4):
    ax2.plot(xs, A * np.cos(phase) * shape, color="tab:purple", lw=1, alpha=0.5)
ax2.plot(xs, A * shape, color="tab:purple", lw=2)
ax2.plot(xs, -A * shape, color="tab:purple", lw=2)
ax2.plot([0, L], [0, 0], color="black", lw=0.8)
nodes = np.linspace(0, L, nloops + 1)
antinodes = (nodes[:-1] + nodes[1:]) / 2
ax2.plot(nodes, np.zeros_like(nodes), "ko", ms=6)
for xn in nodes:
    ax2.text(xn, -1.3, "N", ha="center", va="top", fontsize=12)
for xa in antinodes:
    ax2.text(xa, A + 0.6, "A", ha="center", fontsize=12, color="tab:purple")
ax2.annotate("", xy=(L, -7.2), xytext=(0, -7.2), arrowprops=dict(arrowstyle="<->", lw=1.2))
ax2.text(L / 2, -7.0, r"$L = 1.2\ \mathrm{m}$", ha="center", va="bottom", fontsize=12)
ax2.set_xlim(-0.05, L + 0.05)
ax2.set_ylim(-8.5, 7.5)
ax2.set_xlabel("x (m)")
ax2.set_ylabel("y (cm)")
ax2.set_title(r"(b) Standing wave, third harmonic ($\lambda_3$ = ?)")

fig.subplots_adjust(hspace=0.45)
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
