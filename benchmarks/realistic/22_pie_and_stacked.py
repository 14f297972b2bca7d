import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

energy = pd.Series({"coal": 35, "gas": 23, "nuclear": 10, "hydro": 15, "wind": 9, "solar": 8})
years = np.arange(2015, 2025)
mix = pd.DataFrame(
    {"fossil": np.linspace(70, 55, 10), "nuclear": np.full(10, 10.0), "renewable": np.linspace(20, 35, 10)},
    index=years,
)
fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
energy.plot.pie(ax=a, autopct="%1.0f%%", startangle=90, counterclock=False, ylabel="")
a.set_title("Electricity by source")
mix.plot.area(ax=b, stacked=True, alpha=0.8)
b.set_ylabel("share (%)")
b.set_title("Mix over time")
plt.savefig("energy.png")
