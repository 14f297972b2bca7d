import datetime as dt

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

days = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(60)]
rain = np.clip(np.random.default_rng(4).gamma(0.8, 6, 60) - 2, 0, None)
level = 120 + np.cumsum(rain - 1.5)

fig, ax = plt.subplots(figsize=(9, 4))
ax.bar(days, rain, color="tab:blue", alpha=0.6, label="rain (mm)")
ax.set_ylabel("rain (mm/day)", color="tab:blue")
ax2 = ax.twinx()
ax2.plot(days, level, color="tab:brown", lw=2)
ax2.set_ylabel("reservoir level (cm)", color="tab:brown")
ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO))
ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
fig.autofmt_xdate()
plt.title("Spring rain and the reservoir")
plt.savefig("reservoir.png")
