from __future__ import annotations

import json
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scigen_rl.render import RenderConfig, Renderer
from scigen_rl.shipped import SCIGENBENCH, shipped_dir

REPO = Path(__file__).resolve().parents[1]
SECRET = "sk-test-DO-NOT-LEAK-4f1d2c"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under mutation testing (``make mutate``; mutmut sets ``MUTANT_UNDER_TEST`` and runs from
    ``mutants/``), the tests reaching a mutant run fastest first: it stops at the first failure, so a
    mutant is killed as soon as possible. Otherwise the order is left alone (random)."""
    stats = Path("mutmut-stats.json")
    if not os.environ.get("MUTANT_UNDER_TEST") or not stats.exists():
        return
    durations = json.loads(stats.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))


@pytest.fixture(scope="session")
def shipped_data() -> Path:
    """The data folder shipped in the package (``scigenbench/``, ``mathvision/``)."""
    return shipped_dir(SCIGENBENCH).parent


@pytest.fixture(scope="module")
def renderer() -> Iterator[Renderer]:
    """Two workers, short limits; an API key sits in the parent's environment to prove it never leaks."""
    with pytest.MonkeyPatch.context() as env:  # restored afterwards, whatever was set before
        env.setenv("OPENAI_API_KEY", SECRET)
        env.setenv("WANDB_API_KEY", SECRET)
        with Renderer(RenderConfig(workers=2, timeout_s=3.0, memory_mb=512)) as r:
            yield r


def rlhf_dataset(parquet: Path, cache: Path):  # type: ignore[no-untyped-def]
    """verl 0.9.1's own RLHFDataset over a parquet file, with a Qwen-VL image processor (no download)."""
    from omegaconf import OmegaConf
    from transformers import Qwen2VLImageProcessorPil
    from verl.utils.dataset.rl_dataset import RLHFDataset

    config = OmegaConf.create({"filter_overlong_prompts": False, "cache_dir": str(cache)})
    return RLHFDataset(
        data_files=[str(parquet)], tokenizer=None, config=config, processor=Qwen2VLImageProcessorPil()
    )


_SESSIONS: weakref.WeakSet[Any] = weakref.WeakSet()


@pytest.fixture(scope="session", autouse=True)
def _track_sessions() -> Iterator[None]:
    """Every aiohttp session made in this process, remembered without keeping it alive."""
    import aiohttp

    init = aiohttp.ClientSession.__init__

    def tracked(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        _SESSIONS.add(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aiohttp.ClientSession, "__init__", tracked)
        yield


@pytest.fixture(autouse=True)
def _no_unclosed_sessions(_track_sessions: None) -> Iterator[None]:
    """A test that leaves an aiohttp session open fails (they otherwise only print at exit)."""
    before = {id(s) for s in _SESSIONS}
    yield
    leaked = [s for s in list(_SESSIONS) if id(s) not in before and not s.closed]
    assert not leaked, f"{len(leaked)} aiohttp session(s) left open by this test"


def plain(text: str) -> str:
    """A command's stderr with the boxes and line wrapping of its error panels taken out, so that a
    message reads as one line whatever the terminal's width."""
    import re

    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def readme_example(path: str, registry: dict[str, str], folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Install a worked example of the README as written there: the ```python block that starts with
    ``# <path>`` becomes a module in ``folder`` (on sys.path), and the registration line shown after it
    is added to ``registry`` with the module's new import path. Returns the registered name."""
    import re

    readme = (REPO / "README.md").read_text()
    module = re.search(rf"```python\n# {re.escape(path)}\n(.*?)```", readme, re.S)
    assert module is not None, f"README has no example file {path}"
    dotted = path.removesuffix(".py").replace("/", ".")
    line = re.search(rf'```python\n(    "[^"]+": "{re.escape(dotted)}(:\w+)?",)\n```', readme)
    assert line is not None, f"README has no registration line for {dotted}"
    stem = dotted.rpartition(".")[2]
    (folder / f"{stem}.py").write_text(module.group(1))
    monkeypatch.syspath_prepend(str(folder))
    name, target = next(iter(eval("{" + line.group(1) + "}").items()))
    monkeypatch.setitem(registry, name, target.replace(dotted, stem))
    return str(name)
