"""Initial-rate data for A + B -> C: use the table to determine the rate law."""
import matplotlib.pyplot as plt

columns = ["Experiment", r"$[\mathrm{A}]_0$ (mol/L)", r"$[\mathrm{B}]_0$ (mol/L)",
           r"Initial rate (mol L$^{-1}$ s$^{-1}$)"]
rows = [
    ["1", "0.10", "0.10", r"$2.0\times10^{-3}$"],
    ["2", "0.20", "0.10", r"$4.0\times10^{-3}$"],
    ["3", "0.10", "0.20", r"$8.0\times10^{-3}$"],
    ["4", "0.30", "0.30", "?"],
]

fig, ax = plt.subplots(figsize=(8, 2.8))
ax.axis("off")
tbl = ax.table(cellText=rows, colLabels=columns, loc="center", cellLoc="center",
               colWidths=[0.17, 0.19, 0.19, 0.41])
tbl.auto_set_font_size(False)
tbl.set_fontsize(12)
tbl.scale(1, 2.0)
for (r, c), cell in tbl.get_celld().items():
    if r == 0:
        cell.set_facecolor("#34495e")
        cell.set_text_props(color="white", fontweight="bold", fontsize=11)
    elif r % 2 == 0:
        cell.set_facecolor("#ecf0f1")
ax.set_title(r"Initial rates for $\mathrm{A + B \rightarrow C}$ at 298 K", fontsize=13)
plt.savefig("figure.png", dpi=150, bbox_inches="tight")
