import pandas as pd
import matplotlib.pyplot as plt

df = pd.DataFrame(
    {
        "trial": ["1", "2", "3", "4"],
        "[A] (mol/L)": [0.10, 0.20, 0.10, 0.20],
        "[B] (mol/L)": [0.10, 0.10, 0.20, 0.20],
        "rate (mol/L/s)": [2.0e-3, 4.0e-3, 8.0e-3, 1.6e-2],
    }
).set_index("trial")

fig, (ax, tab) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
df["rate (mol/L/s)"].plot.bar(ax=ax, color=["#4c72b0", "#55a868", "#c44e52", "#8172b2"], rot=0)
ax.set_ylabel("initial rate (mol/L/s)")
ax.set_title("Method of initial rates")
tab.axis("off")
table = tab.table(cellText=df.values, colLabels=df.columns, rowLabels=df.index, loc="center")
table.auto_set_font_size(False)
table.set_fontsize(9)
table.scale(1, 1.6)
plt.savefig("rates.png", bbox_inches="tight")
