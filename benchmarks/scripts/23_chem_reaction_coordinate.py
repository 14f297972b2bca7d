"""Energy profile for A + B -> C with Ea = 70 kJ/mol and dH = -30 kJ/mol: find the activation energy of the reverse reaction."""
import numpy as np
import matplotlib.pyplot as plt

R, TS, TS_cat, P = 40.0, 110.0, 80.0, 10.0


def profile(x, peak):
    """Piecewise cosine interpolation: flat reactants, a hump, flat products."""
    y = np.full_like(x, R)
    up = (x >= 1.5) & (x < 5)
    down = (x >= 5) & (x < 8.5)
    y[up] = R + (peak - R) * (1 - np.cos(np.pi * (x[up] - 1.5) / 3.5)) / 2
    y[down] = peak + (P - peak) * (1 - np.cos(np.pi * (x[down] - 5) / 3.5)) / 2
    y[x >= 8.5] = P
    return y


x = np.linspace(0, 10.5, 500)
fig, ax = plt.subplots(figsize=(8, 5.5))
ax.plot(x, profile(x, TS), color="black", lw=2.2, label="uncatalysed")
ax.plot(x, profile(x, TS_cat), color="tab:green", lw=1.8, ls="--", label="with catalyst")

# Reference lines
ax.hlines(R, 0, 9.9, color="gray", ls=":", lw=1)
ax.hlines(TS, 4.2, 5.6, color="gray", ls=":", lw=1)

# Given quantities
ax.annotate("", xy=(4.6, TS), xytext=(4.6, R), arrowprops=dict(arrowstyle="<->", color="tab:red", lw=1.5))
ax.text(0.3, 97, r"$E_a = 70\ \mathrm{kJ\,mol^{-1}}$", color="tab:red", fontsize=12, va="center")
ax.annotate("", xy=(9.6, P), xytext=(9.6, R), arrowprops=dict(arrowstyle="<->", color="tab:blue", lw=1.5))
ax.text(9.75, (R + P) / 2, r"$\Delta H$" + "\n" + r"$= -30\ \mathrm{kJ\,mol^{-1}}$", color="tab:blue",
        fontsize=12, va="center", ha="left")

ax.text(0.75, R + 4, "A + B", ha="center", fontsize=13)
ax.text(9.0, P - 8, "C", ha="center", fontsize=13)
ax.text(5, TS + 4, "transition state", ha="center", fontsize=11)

ax.set_xlim(0, 12.6)
ax.set_ylim(-5, 130)
ax.set_xticks([])
ax.set_yticks([])
ax.set_xlabel("Reaction coordinate", fontsize=12)
ax.set_ylabel("Potential energy", fontsize=12)
ax.spines[["top", "right"]].set_visible(False)
ax.legend(loc="upper right", frameon=False)
ax.set_title("Reaction energy profile")
