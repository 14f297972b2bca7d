import numpy as np
import matplotlib.pyplot as plt
from scipy import signal

fs = 1000
t = np.arange(0, 1, 1 / fs)
rng = np.random.default_rng(0)
x = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 120 * t) + 0.4 * rng.standard_normal(t.size)
b, a = signal.butter(4, 80, fs=fs)
y = signal.filtfilt(b, a, x)
f, pxx = signal.welch(x, fs, nperseg=256)
w, h = signal.freqz(b, a, fs=fs)

fig, axes = plt.subplots(3, 1, figsize=(8, 8))
axes[0].plot(t[:200], x[:200], label="noisy")
axes[0].plot(t[:200], y[:200], label="low-pass 80 Hz")
axes[0].legend(loc="upper right")
axes[0].set_xlabel("time (s)")
axes[1].semilogy(f, pxx)
axes[1].set_xlabel("frequency (Hz)")
axes[1].set_ylabel("PSD (V$^2$/Hz)")
axes[2].plot(w, 20 * np.log10(np.maximum(abs(h), 1e-8)))
axes[2].axvline(80, color="red", ls="--")
axes[2].set_ylabel("gain (dB)")
axes[2].set_ylim(-80, 5)
plt.tight_layout()
plt.savefig("signal.png")
