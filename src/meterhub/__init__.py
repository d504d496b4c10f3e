"""meterhub: utility metering and billing for apartment buildings (МКД)."""

__version__ = "0.1.0"
