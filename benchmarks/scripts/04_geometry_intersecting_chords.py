"""Chords AB and CD of a circle meet at E with AE = 4, EB = 6, CE = 3: find ED."""
import numpy as np
import matplotlib.pyplot as plt

t = np.linspace(0, 2 * np.pi, 200)
fig, ax = plt.subplots(figsize=(5, 5))
ax.plot(5 * np.cos(t), 5 * np.sin(t), "k", lw=1.5)
pts = {k: 5 * np.array([np.cos(np.radians(a)), np.sin(np.radians(a))])
       for k, a in {"A": 165, "B": -15, "C": 105, "D": 250}.items()}
s = np.linalg.solve(np.column_stack([pts["B"] - pts["A"], pts["C"] - pts["D"]]), pts["C"] - pts["A"])[0]
pts["E"] = pts["A"] + s * (pts["B"] - pts["A"])
ax.plot(*zip(pts["A"], pts["B"]), *zip(pts["C"], pts["D"]), color="tab:blue", lw=2)
for k, v in pts.items():
    ax.text(*(1.1 * v if k != "E" else v + 0.35), k, fontsize=15, ha="center", va="center")
ax.text(-4.6, -5.9, "AE = 4,  EB = 6,  CE = 3,  ED = ?", fontsize=12)
ax.set_aspect("equal"); ax.axis("off")
