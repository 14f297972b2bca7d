"""Table of reaction times of five students in three trials: find the mean of student C."""
import matplotlib.pyplot as plt

rows = ["A", "B", "C", "D", "E"]
data = [["0.21", "0.19", "0.20"], ["0.25", "0.27", "0.26"], ["0.18", "0.22", "0.20"],
        ["0.30", "0.28", "0.29"], ["0.24", "0.23", "0.25"]]
fig, ax = plt.subplots(figsize=(5, 2.6))
ax.axis("off")
table = ax.table(cellText=data, rowLabels=rows, colLabels=["Trial 1 (s)", "Trial 2 (s)", "Trial 3 (s)"],
                 loc="center", cellLoc="center")
table.scale(1, 1.4)
ax.set_title("Reaction times")
plt.savefig("table.png", bbox_inches="tight")
