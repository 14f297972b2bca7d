"""A spinner with four sectors (90°, 120°, 60°, 90°): probability of landing on blue."""
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4.5, 4.5))
sizes = [90, 120, 60, 90]
colors = ["tab:red", "tab:blue", "tab:green", "gold"]
labels = ["red 90°", "blue 120°", "green 60°", "yellow 90°"]
ax.pie(sizes, colors=colors, labels=labels, startangle=90, counterclock=False,
       wedgeprops=dict(edgecolor="white", linewidth=2))
ax.annotate("", xy=(0.45, 0.55), xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", lw=2.5))
ax.set_title("P(blue) = ?")
plt.savefig("spinner.png")
