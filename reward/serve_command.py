"""``scigen-rl serve-reward``: the Compass-Verifier reward server (POST /score, GET /health, GET /metrics)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from scigen_rl.command_line import Command, base_config

from .config import TOKEN_ENV, RewardConfig


@dataclass
class ServeRewardOptions(RewardConfig):
    """Judge answers rule first (math-verify, option letters) and with a served verifier second. The
    reward settings (a config file holds them as top-level keys) plus where the server listens."""

    host: str = "127.0.0.1"
    """The address to listen on (0.0.0.0: every interface)."""
    port: int = 8765
    """The port to listen on."""
    log_level: str = "warning"
    """uvicorn's log level."""
    token_env: str = TOKEN_ENV
    """Environment variable with a bearer token; when it is set, /score and /metrics require it."""


def serve_reward(options: ServeRewardOptions) -> int:
    from .server import serve

    config = base_config(options, RewardConfig)
    token = os.environ.get(options.token_env) or None
    print(
        f"reward server on http://{options.host}:{options.port} (mode {config.mode}, verifier "
        f"{config.verifier_model} at {', '.join(config.verifier_urls) or 'none'})"
        + (f"; /score needs the bearer token in ${options.token_env}" if token else ""),
        file=sys.stderr,
    )
    serve(config, options.host, options.port, options.log_level, token)
    return 0


COMMAND = Command("serve-reward", ServeRewardOptions, serve_reward)
