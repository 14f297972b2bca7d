"""What a build does: its generator, model, concurrency, render, filter and export settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from scigen_rl.filters import FilterConfig
from scigen_rl.llm import LLMConfig
from scigen_rl.render import RenderConfig
from scigen_rl.t2i.config import T2IConfig

from .decontam import DecontamConfig
from .export import ExportConfig

PROMPTS = ("plan-code", "skeleton", "paper")
"""ImgCoder's prompts: see ``BuildConfig.prompt``."""


@dataclass
class BuildConfig:
    run_dir: str
    """Where everything of this build lives; re-running with the same directory resumes."""
    llm: LLMConfig
    """The model that writes the figures (its cache goes to ``run_dir/llm-cache``)."""
    generator: str = "imgcoder"
    """Which generator makes the figures: a name of ``data_builders.generators.GENERATORS``, optionally
    followed by ``:ARGUMENT`` for the generator (e.g. a model name)."""
    concurrency: int = 32
    """Problems in flight at once (model calls and renders overlap across them)."""
    repair_rounds: int = 2
    """Extra tries with the render error fed back to the model."""
    prompt: str = "plan-code"
    """ImgCoder's prompt: ``plan-code`` (a four-part plan, then a free-form script; for capable models)
    or ``skeleton`` (a script of fixed shape whose slots the model fills under a grammar; for small
    models such as the embedded one, see ``scigen_rl.skeletons``) or ``paper`` (the paper's way: the
    question only, the first code block, no repair: ``scigen_rl.imgcoder_paper``)."""
    paper_repo: str | None = None
    """With ``prompt="paper"``: a checkout of SciGenBench/SciGenBench to read the paper's own prompt from."""
    render: RenderConfig = field(default_factory=RenderConfig)
    routes: dict[str, str] | None = None
    """ImgCoder's routing: image type -> the renderer whose language the model writes in, every other type
    matplotlib (``data_builders.generators.routes``); a figure whose renderer fails after its repair
    rounds is asked once more as matplotlib. None: no routing, every figure in ``render.renderer``."""
    route_workers: int = 0
    """Workers of each routed renderer's pool (one pool per renderer used, started when first needed);
    0: half of ``render.workers``' count, at least one."""
    t2i: T2IConfig = field(default_factory=T2IConfig)
    """Settings of a pixel generator (``--generator openai:...``, ``gateway:...``)."""
    filters: FilterConfig = field(default_factory=FilterConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    verify: LLMConfig | None = None
    """The vision model of inverse quiz validation (``--verify``); None skips verification."""
    candidates: int = 1
    """Figures made per problem (``build --candidates N``); with more than one, each is scored by R_inv
    with the verifier (``verify``, required) and the best is kept (``data_builders.candidates``)."""
    candidate_judge: bool = False
    """Also score each candidate with the LMM judge (the verifier model): it breaks ties of R_inv."""
    decontam: DecontamConfig = field(default_factory=DecontamConfig)
    """What the export checks its rows against (the evaluation sets), and whether hits are left out."""

    def __post_init__(self) -> None:
        if self.candidates < 1:
            raise ValueError(f"BuildConfig.candidates: must be >= 1, got {self.candidates}")
        if self.candidates > 1 and self.verify is None:
            raise ValueError(
                "--candidates N needs --verify: each candidate is scored by R_inv with the verifier"
            )
        if self.candidates > 1 and self.generator.split(":")[0] == "imgcoder" and not self.llm.temperature:
            raise ValueError("--candidates N with ImgCoder needs --llm.temperature > 0: at temperature 0 every "
                             "sample is the same figure")  # fmt: skip
        if self.route_workers < 0:
            raise ValueError(f"BuildConfig.route_workers: must be >= 0, got {self.route_workers}")
        if self.routes is not None and (self.prompt != "plan-code" or self.render.renderer != "matplotlib"):
            raise ValueError("routing needs --prompt plan-code and --render.renderer matplotlib "
                             "(the other prompts write matplotlib only): give --routing off")  # fmt: skip
        if self.prompt not in PROMPTS:
            raise ValueError(f"BuildConfig.prompt: {self.prompt!r} is not one of {', '.join(PROMPTS)}")
