import numpy as np
import matplotlib.pyplot as plt

t = np.linspace(0, 1, 500)
for k, f in enumerate([2, 5]):
    plt.figure(k + 1, figsize=(5, 3))
    plt.plot(t, np.sign(np.sin(2 * np.pi * f * t)), drawstyle="steps-post")
    plt.ylim(-1.5, 1.5)
    plt.title(f"square wave, {f} Hz")
plt.show()
