import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 200)
fig, axs = plt.subplots(2, 3, figsize=(10, 6), sharex=True, sharey=True)
for i, ax in enumerate(axs.flat):
    n = i + 1
    ax.plot(x, np.sin(n * x) * np.exp(-x / (n + 1)))
    ax.set_title(f"mode n = {n}")
    ax.fill_between(x, 0, np.sin(n * x) * np.exp(-x / (n + 1)), alpha=0.2)
fig.supxlabel("phase (rad)")
fig.supylabel("amplitude")
fig.suptitle("Damped modes of a string")
plt.savefig("modes.png")
