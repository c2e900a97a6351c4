"""Writes of the active-learning app: feature caches, trained models and queue priorities, simulations."""
