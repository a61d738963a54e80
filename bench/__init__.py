"""`deskmate bench`: the engine's speed, memory and size, side by side with PyTorch, the naive export and llama.cpp."""
