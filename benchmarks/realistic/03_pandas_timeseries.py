import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

idx = pd.date_range("2023-01-01", periods=365, freq="D")
rng = np.random.default_rng(7)
temps = 12 + 10 * np.sin(2 * np.pi * (idx.dayofyear - 100) / 365) + rng.normal(0, 2, len(idx))
df = pd.DataFrame({"temperature": temps}, index=idx)
df["7-day mean"] = df["temperature"].rolling(7, center=True).mean()
monthly = df["temperature"].resample("MS").mean()

fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=False)
df.plot(ax=ax1, alpha=0.8)
ax1.set_ylabel("°C")
ax1.set_title("Daily temperature at a weather station")
monthly.plot(kind="bar", ax=ax2, color="tab:orange")
ax2.set_xticklabels([d.strftime("%b") for d in monthly.index], rotation=0)
ax2.set_ylabel("monthly mean (°C)")
fig.tight_layout()
plt.savefig("timeseries.png")
