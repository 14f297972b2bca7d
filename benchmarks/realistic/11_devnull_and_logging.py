import contextlib
import os
import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np

with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
    print("progress output nobody wants")
with open(os.devnull, "w") as sink:
    sys.stderr = sink
    warnings.warn("silenced")
    sys.stderr = sys.__stderr__
noise = np.frombuffer(open("/dev/urandom", "rb").read(0) or b"\x00" * 16, dtype=np.uint8)

t = np.linspace(0, 10, 100)
plt.plot(t, np.cos(t) * np.exp(-0.2 * t) + noise.mean())
plt.title("Quiet script")
plt.savefig("quiet.png")
