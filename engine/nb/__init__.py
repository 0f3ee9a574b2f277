"""Compiled kernels only: arrays in, arrays out (numba). No pandas, no Python objects.

``loop`` advances the portfolio bar by bar, ``fills`` prices one fill, ``prepare``
builds the target list and the plan's prices. Their codes and argument groups live in
``engine.enums``.
"""
