"""Writes of the weak-supervision app: labeling functions (`functions`), runs (`runs`), external votes."""

from weak_supervision.services.external import external_labeling_functions_ensure

__all__ = ["external_labeling_functions_ensure"]
