import numpy as np
import pandas as pd
import seaborn as sns
import matplotlib.pyplot as plt

rng = np.random.RandomState(42)
n = 120
temp = rng.uniform(10, 40, n)
species = rng.choice(["A. niger", "B. subtilis", "E. coli"], n)
growth = 0.05 * temp + rng.normal(0, 0.3, n) + np.where(species == "E. coli", 0.5, 0.0)
df = pd.DataFrame({"temperature (°C)": temp, "growth rate (1/h)": growth, "species": species})

sns.set_theme(style="whitegrid")
g = sns.lmplot(data=df, x="temperature (°C)", y="growth rate (1/h)", hue="species", height=4, aspect=1.4, ci=None)
g.fig.suptitle("Growth rate against temperature", y=1.02)
plt.savefig("regression.png")
