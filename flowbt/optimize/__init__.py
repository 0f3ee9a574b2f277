"""Parameter sweeps: the compiled SMA-cross sweep (the general optimiser is to come)."""
