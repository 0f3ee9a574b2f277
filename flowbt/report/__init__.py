"""Reports on backtests: quantstats tearsheets, plots, the results folder."""
