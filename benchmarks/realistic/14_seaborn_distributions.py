import numpy as np
import pandas as pd
import seaborn as sns
import matplotlib.pyplot as plt

rs = np.random.RandomState(8)
df = pd.DataFrame(
    {
        "score": np.concatenate([rs.normal(70, 8, 200), rs.normal(78, 6, 200), rs.normal(65, 12, 200)]),
        "class": ["A"] * 200 + ["B"] * 200 + ["C"] * 200,
    }
)
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
sns.violinplot(data=df, x="class", y="score", hue="class", ax=axes[0], inner="quartile", legend=False)
sns.boxplot(data=df, x="class", y="score", ax=axes[1], color="lightblue")
sns.stripplot(data=df, x="class", y="score", ax=axes[1], size=2, color="black", alpha=0.4)
sns.kdeplot(data=df, x="score", hue="class", fill=True, ax=axes[2])
axes[0].set_title("violin")
axes[1].set_title("box + strip")
axes[2].set_title("KDE")
plt.savefig("distributions.png")
