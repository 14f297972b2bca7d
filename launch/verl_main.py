"""verl's PPO entry point with the project's TaskRunner: ``python -m launch.verl_main --config-path=DIR
--config-name=RECIPE [overrides]``, the same arguments as ``python -m verl.trainer.main_ppo``.

The only difference is the TaskRunner (:class:`launch.guarded_trainer.GuardedTaskRunner`), which makes
the recipe's ``trainer.v1.trainer_mode: scigen_sync`` known in the process where verl picks its trainer.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig


@hydra.main(config_path=None, config_name=None, version_base=None)
def main(config: DictConfig) -> None:
    from verl.trainer.main_ppo import run_ppo
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config
    from verl.utils.device import auto_set_device

    from launch.guarded_trainer import TRAINER_MODE, GuardedTaskRunner

    if not config.trainer.use_v1 or config.trainer.v1.trainer_mode != TRAINER_MODE:
        raise SystemExit(
            f"launch.verl_main runs verl's v1 trainer in mode {TRAINER_MODE!r} (the per-step reward metrics); "
            f"this config has trainer.use_v1={config.trainer.use_v1}, "
            f"trainer.v1.trainer_mode={config.trainer.v1.trainer_mode!r}: use verl.trainer.main_ppo for others"
        )
    auto_set_device(config)
    validate_config(
        config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config)
    )
    run_ppo(config, task_runner_class=GuardedTaskRunner)


if __name__ == "__main__":
    main()
