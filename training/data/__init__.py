"""Training data for Deskmate's fine-tune: the seed split, a templated generator and external tools."""
