"""scigen-rl: verified image-question training data from text science problems, and GRPO on verl."""

__version__ = "0.1.0"
