"""The prompt format shared by training, evaluation and the running app (docs/prompt-format.md)."""
