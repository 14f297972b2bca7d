"""Class survey summary: heights histogram, blood-type pie chart, reaction-time box plots and monthly temperatures."""
import numpy as np
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
fig, axes = plt.subplots(2, 2, figsize=(8.5, 7))
(ax1, ax2), (ax3, ax4) = axes

# (a) Histogram of 400 student heights with a normal curve
heights = rng.normal(165, 8, 400)
mu, sigma = 165, 8
counts, bins, _ = ax1.hist(heights, bins=20, color="#8fb8de", edgecolor="white")
xs = np.linspace(135, 195, 200)
binw = bins[1] - bins[0]
pdf = np.exp(-0.5 * ((xs - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
ax1.plot(xs, pdf * heights.size * binw, "k-", lw=1.5, label=r"$N(\mu, \sigma^2)$")
ax1.axvline(mu, color="tab:red", ls="--", lw=1.2)
ax1.text(176, counts.max() * 0.9, r"$\mu = 165$ cm", color="tab:red")
ax1.text(176, counts.max() * 0.8, r"$\sigma = 8$ cm", color="tab:red")
ax1.set_xlabel("Height (cm)")
ax1.set_ylabel("Number of students")
ax1.set_title("(a) Height distribution (n = 400)")
ax1.legend(loc="upper left")

# (b) Pie chart of blood types
labels = ["O", "A", "B", "AB"]
shares = [44, 42, 10, 4]
ax2.pie(shares, labels=labels, autopct="%1.0f%%", startangle=90, explode=(0.03, 0.03, 0.03, 0.12),
        colors=["#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3"], wedgeprops=dict(edgecolor="white"))
ax2.set_title("(b) Blood types", pad=14)
ax2.axis("equal")

# (c) Box plots of reaction times for three groups
data = [rng.normal(m, s, 30) for m, s in [(250, 25), (280, 30), (310, 40)]]
bp = ax3.boxplot(data, patch_artist=True, widths=0.5)
for patch, c in zip(bp["boxes"], ["#a6cee3", "#b2df8a", "#fb9a99"]):
    patch.set_facecolor(c)
ax3.set_xticks([1, 2, 3], ["No caffeine", "1 cup", "Sleep-deprived"])
ax3.set_ylabel("Reaction time (ms)")
ax3.set_title("(c) Reaction times (30 per group)")
ax3.yaxis.grid(True, ls=":")

# (d) Monthly mean temperature for two cities
months = np.arange(1, 13)
t_a = 12 + 10 * np.sin((months - 4) * np.pi / 6)
t_b = 20 + 5 * np.sin((months - 4) * np.pi / 6)
ax4.plot(months, t_a, "o-", color="tab:blue", label="City A (inland)")
ax4.plot(months, t_b, "s-", color="tab:orange", label="City B (coastal)")
ax4.fill_between(months, t_a, t_b, color="gray", alpha=0.15)
ax4.set_xticks(months, ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"])
ax4.set_ylabel(r"Mean temperature ($^\circ$C)")
ax4.set_title("(d) Climate data")
ax4.legend(loc="lower center")
ax4.grid(alpha=0.3)

fig.suptitle("Survey and measurement summary", fontsize=15)
fig.subplots_adjust(left=0.07, right=0.93, bottom=0.07, top=0.9, hspace=0.35, wspace=0.3)
fig.savefig("summary.png", dpi=150)
