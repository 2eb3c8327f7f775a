"""loyaltysim: agent-based simulation of customer loyalty, loyalty programmes, churn and profit."""
