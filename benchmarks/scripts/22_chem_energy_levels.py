"""Hydrogen energy levels E_n = -13.6/n^2 eV: find the wavelength emitted in the n = 3 -> 2 transition; nitrogen orbital diagram."""
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 5.5), gridspec_kw={"width_ratios": [1.2, 1]})

# (a) Hydrogen atom energy levels
levels = {1: -13.6, 2: -3.40, 3: -1.51, 4: -0.85}
for n, E in levels.items():
    ax1.hlines(E, 0, 1, color="navy", lw=2)
    ax1.text(-0.05, E, f"n = {n}", ha="right", va="center", fontsize=11)
    ax1.text(1.05, E, f"{E:.2f} eV", ha="left", va="center", fontsize=11)
ax1.hlines(0, 0, 1, color="navy", lw=2, ls="--")
ax1.text(-0.05, 0, "n = \u221e", ha="right", va="center", fontsize=11)
ax1.text(1.05, 0, "0 eV", ha="left", va="center", fontsize=11)

ax1.annotate("", xy=(0.55, levels[2]), xytext=(0.55, levels[3]),
             arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=2, mutation_scale=18))
ax1.text(0.6, -2.45, r"$\lambda = ?$", color="tab:red", fontsize=13, va="center")
ax1.text(0.5, -8.5, r"$E_n = -\frac{13.6}{n^2}\ \mathrm{eV}$", ha="center", fontsize=14)
ax1.set_xlim(-0.45, 1.5)
ax1.set_ylim(-14.8, 1.2)
ax1.set_xticks([])
ax1.set_ylabel("Energy (eV)")
ax1.spines[["top", "right", "bottom"]].set_visible(False)
ax1.set_title("(a) Hydrogen atom")

# (b) Orbital box diagram of nitrogen, Z = 7: 1s2 2s2 2p3
orbitals = [("1s", 0.0, 1, ["\u2191\u2193"]),
            ("2s", 2.0, 1, ["\u2191\u2193"]),
            ("2p", 3.2, 3, ["\u2191", "\u2191", "\u2191"])]
bw, bh = 0.8, 0.7
for name, y, nbox, spins in orbitals:
    x0 = 1.0 if nbox == 1 else 2.2
    for k in range(nbox):
        ax2.add_patch(Rectangle((x0 + k * bw, y), bw, bh, fill=False, lw=1.5))
        ax2.text(x0 + (k + 0.5) * bw, y + bh / 2, spins[k], ha="center", va="center", fontsize=17)
    ax2.text(x0 - 0.15, y + bh / 2, name, ha="right", va="center", fontsize=13)

ax2.annotate("", xy=(0.2, 4.4), xytext=(0.2, -0.2), arrowprops=dict(arrowstyle="-|>", lw=1.5))
ax2.text(0.05, 2.1, "Energy", rotation=90, ha="right", va="center", fontsize=12)
ax2.text(2.5, -0.8, r"N (Z = 7): $1s^2\,2s^2\,2p^3$", ha="center", fontsize=13)
ax2.set_xlim(-0.4, 5)
ax2.set_ylim(-1.2, 4.6)
ax2.axis("off")
ax2.set_title("(b) Orbital diagram of nitrogen")

fig.subplots_adjust(wspace=0.25)
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
