"""Parameter sweeps: the compiled SMA-cross sweep and vectorbt column sweeps."""
