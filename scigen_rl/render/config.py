"""Settings of the sandboxed renderer."""

from __future__ import annotations

import os
import resource
from dataclasses import asdict, dataclass, field
from typing import Any

from ..records import FAILURE_CLASSES as FAILURE_CLASSES  # defined with the records that store it

ISOLATION_MODES = ("strict", "relaxed")
PRELOAD = (
    "mpl_toolkits.mplot3d",
    "matplotlib.dates",
    "scipy.signal",
    "scipy.stats",
    "scipy.integrate",
    "scipy.optimize",
    "scipy.interpolate",
    "scipy.spatial",
    "pandas",
    "seaborn",
    "networkx",
    "sympy",
)
"""What real plotting scripts import besides matplotlib and numpy (the render worker's default preload)."""
MAX_OPEN_FILES = 256
"""Open files per script (RLIMIT_NOFILE): plenty for fonts and outputs, not enough to exhaust the host."""


@dataclass
class RenderConfig:
    renderer: str = "matplotlib"
    """The language scripts are written in: a name of ``scigen_rl.render.renderers.RENDERERS``
    (matplotlib: Python scripts whose figures are captured; rdkit: Python drawing molecules and
    reactions; schemdraw: Python drawing circuits; graphviz: DOT graphs, laid out in-process; tikz:
    LaTeX documents compiled by ``tex_engine`` and rasterised)."""

    tex_engine: str = "pdflatex"
    """The TeX engine of the ``tikz`` renderer: a name looked up on /usr/local/bin:/usr/bin:/bin, or a
    path. The sandbox lets TikZ jobs start exactly this program (its real file) and nothing else."""

    tex_scale: float = 2.0
    """TikZ pages are rasterised at ``dpi`` times this. A TikZ picture has its print size (a circuit or a
    triangle a few centimetres wide), a matplotlib figure 6.4 x 4.8 in: at 2 the two come out at
    comparable pixel sizes (the shipped TikZ examples: 530-1080 px wide at dpi 100)."""

    workers: int = 0
    """Rendering processes run in parallel; 0 means one per CPU core."""

    timeout_s: float = 20.0
    """Wall-clock seconds a script may run (including the capture of its figures) before it is killed."""

    memory_mb: int = 1024
    """Address space a script may add on top of the pre-loaded interpreter (RLIMIT_AS headroom)."""

    cpu_s: float | None = None
    """CPU seconds per script (RLIMIT_CPU); default: the timeout plus one second."""

    file_size_mb: int = 32
    """Largest file a script may write (RLIMIT_FSIZE); writes land in a scratch directory that is discarded."""

    scratch_mb: int = 256
    """Size of the in-memory scratch filesystem that holds the scripts' working directories."""

    dpi: int = 100
    """Resolution every captured figure is saved at, whatever the script asked for."""

    png_compress_level: int = 1
    """zlib level of the PNGs (0-9). Measured on the benchmark corpus: level 1 encodes about three times
    faster than 6 for files about 15% larger, a good trade for datasets rendered by the hundred thousand."""

    max_pixels: int = 16_000_000
    """A figure larger than this many pixels is saved at a lower DPI (with a warning) instead."""

    nice: int = 5
    """Scheduling niceness added to the workers (0-19). Rendering is batch work; the process that
    drives it also waits on model answers and sends the next requests, and must not queue for a core
    behind the scripts, or every model call starts late when the machine is busy."""

    recycle_after: int = 500
    """A worker is replaced by a fresh one after this many scripts."""

    isolation: str = "strict"
    """``strict``: refuse to run unless the script gets its own network, mount and PID namespaces.
    ``relaxed``: if namespaces are unavailable, run with seccomp and resource limits only."""

    namespaces: bool = True
    """Put each worker in new network, mount, PID, IPC and UTS namespaces (needs root or user namespaces)."""

    force_user_namespace: bool = False
    """Also create a user namespace when running as root (the path unprivileged users take)."""

    seccomp: bool = True
    """Install a syscall filter that denies process creation, sockets, tracing and mount changes."""

    hidden_paths: list[str] = field(
        default_factory=lambda: ["/root", "/home", "/etc/shadow", "/etc/gshadow", "/etc/ssh", "/run/secrets"]
    )
    """Covered with empty ones inside the sandbox (the user's home too); the interpreter's own folders
    inside them stay visible. Only writes are confined elsewhere: list here what scripts must not read."""

    seed: int = 0
    """Seed of ``random`` and ``numpy.random`` in every script, so renders are reproducible."""

    fallback_fonts: list[str] = field(
        default_factory=lambda: [
            "WenQuanYi Micro Hei",
            "Noto Sans CJK SC",
            "Noto Sans CJK JP",
            "Droid Sans Fallback",
        ]
    )
    """Families tried, in order, for glyphs DejaVu Sans lacks (CJK). Missing ones are skipped."""

    max_output_mb: int = 64
    """Largest result (all PNGs of one script) a worker accepts from a script."""

    max_figures: int = 8
    """Figures kept per script, in the order it drew them; later ones are not saved (with a warning)."""

    preload: list[str] = field(default_factory=lambda: list(PRELOAD))
    """Modules each worker imports once, so that no script pays for them (a module that is not
    installed is skipped). Each costs memory once per worker, shared by all its scripts: measured
    here, the default list adds about 170 MB per worker and takes about 2 s off the first import of
    a script that uses all of it; ``[]`` for matplotlib and numpy only."""

    def __post_init__(self) -> None:
        if self.isolation not in ISOLATION_MODES:
            raise ValueError(f"RenderConfig.isolation: {self.isolation!r} is not one of {ISOLATION_MODES}")
        for name in (
            "timeout_s",
            "memory_mb",
            "file_size_mb",
            "scratch_mb",
            "dpi",
            "max_pixels",
            "recycle_after",
            "max_figures",
            "tex_scale",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"RenderConfig.{name}: must be positive, got {getattr(self, name)!r}")
        if not 0 <= self.png_compress_level <= 9:
            raise ValueError(f"RenderConfig.png_compress_level: must be 0-9, got {self.png_compress_level}")
        if not 0 <= self.nice <= 19:
            raise ValueError(f"RenderConfig.nice: must be 0-19, got {self.nice}")
        if self.workers < 0:
            raise ValueError(f"RenderConfig.workers: must be >= 0, got {self.workers}")

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def cpu_limit_s(self) -> int:
        return int(self.cpu_s if self.cpu_s is not None else self.timeout_s + 1) + 1

    def rlimits(self, base_vm_bytes: int) -> dict[int, tuple[int, int]]:
        """The (soft, hard) resource limits of every script, for a process whose address space is
        ``base_vm_bytes`` when the script starts: the memory limit is headroom on top of it. The CPU
        limit's soft part sends SIGXCPU (a ``timeout``), the hard one a second later SIGKILL."""
        size = self.file_size_mb << 20
        space = base_vm_bytes + (self.memory_mb << 20)
        return {
            resource.RLIMIT_CORE: (0, 0),
            resource.RLIMIT_CPU: (self.cpu_limit_s, self.cpu_limit_s + 1),
            resource.RLIMIT_FSIZE: (size, size),
            resource.RLIMIT_AS: (space, space),
            resource.RLIMIT_NOFILE: (MAX_OPEN_FILES, MAX_OPEN_FILES),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
