"""Ball-and-stick models of water (O-H 0.96 A, H-O-H 104.5 deg) and ethanol: find the H...H distance in water."""
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Arc

STYLE = {"C": ("#555555", 0.34), "O": ("#e0301e", 0.32), "H": ("#ffffff", 0.2)}


def draw_molecule(ax, atoms, bonds):
    for i, j in bonds:
        (_, xi, yi), (_, xj, yj) = atoms[i], atoms[j]
        ax.plot([xi, xj], [yi, yj], color="#999999", lw=5, zorder=1, solid_capstyle="round")
    for el, x, y in atoms:
        color, r = STYLE[el]
        ax.add_patch(Circle((x, y), r, facecolor=color, edgecolor="black", lw=1.2, zorder=2))
        ax.text(x, y, el, ha="center", va="center", fontsize=11 if el != "H" else 9,
                color="white" if el != "H" else "black", fontweight="bold", zorder=3)


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.5), gridspec_kw={"width_ratios": [1, 1.4]})

# Water: bond angle 104.5 degrees, O-H = 0.96 angstrom (scaled x1.5 for the drawing)
half = np.radians(104.5 / 2)
d = 0.96 * 1.5
water = [("O", 0.0, 0.0),
         ("H", -d * np.sin(half), -d * np.cos(half)),
         ("H", d * np.sin(half), -d * np.cos(half))]
draw_molecule(ax1, water, [(0, 1), (0, 2)])
ax1.add_patch(Arc((0, 0), 1.3, 1.3, theta1=-90 - 52.25, theta2=-90 + 52.25, lw=1.2, zorder=4))
ax1.text(0, -0.9, r"$104.5^\circ$", ha="center", fontsize=12)
ax1.text(-1.25, -0.25, r"$0.96\ \mathrm{\AA}$", ha="center", fontsize=12)
ax1.set_title(r"Water, $\mathrm{H_2O}$")
ax1.set_xlim(-1.8, 1.8)
ax1.set_ylim(-1.6, 0.9)

# Ethanol: CH3-CH2-OH in a 2D zig-zag projection
pol = lambda x0, y0, deg, r=1.0: (x0 + r * np.cos(np.radians(deg)), y0 + r * np.sin(np.radians(deg)))
C1 = (0.0, 0.0)
C2 = pol(*C1, 30, 1.5)
O = pol(*C2, -30, 1.45)
atoms = [("C", *C1), ("C", *C2), ("O", *O),
         ("H", *pol(*C1, 150)), ("H", *pol(*C1, 230)), ("H", *pol(*C1, 300)),
         ("H", *pol(*C2, 60)), ("H", *pol(*C2, 120)), ("H", *pol(*O, 30))]
bonds = [(0, 1), (1, 2), (0, 3), (0, 4), (0, 5), (1, 6), (1, 7), (2, 8)]
draw_molecule(ax2, atoms, bonds)
ax2.set_title(r"Ethanol, $\mathrm{C_2H_5OH}$")
ax2.set_xlim(-1.6, 3.8)
ax2.set_ylim(-1.6, 2.2)

for ax in (ax1, ax2):
    ax.set_aspect("equal")
    ax.axis("off")
handles = [Circle((0, 0), 1, facecolor=STYLE[e][0], edgecolor="black", label=e) for e in "CHO"]
fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False)
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
