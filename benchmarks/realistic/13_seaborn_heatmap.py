import numpy as np
import pandas as pd
import seaborn as sns
import matplotlib.pyplot as plt

rng = np.random.default_rng(3)
genes = [f"G{i}" for i in range(1, 11)]
conditions = ["ctrl", "heat", "cold", "salt", "dark", "UV"]
data = pd.DataFrame(rng.normal(0, 1, (10, 6)), index=genes, columns=conditions)
data.loc["G3", "heat"] = 3.2
corr = data.T.corr()

fig, axes = plt.subplots(1, 2, figsize=(12, 5))
sns.heatmap(data, annot=True, fmt=".1f", cmap="RdBu_r", center=0, ax=axes[0], cbar_kws={"label": "log2 FC"})
axes[0].set_title("Expression change")
mask = np.triu(np.ones_like(corr, dtype=bool))
sns.heatmap(corr, mask=mask, cmap="vlag", vmin=-1, vmax=1, square=True, ax=axes[1])
axes[1].set_title("Gene-gene correlation")
plt.tight_layout()
plt.savefig("heatmap.png")
