"""Loyalty programme types, selected by registry key (``programme.type`` in the config)."""

from .base import REGISTRY, Programme, ProgrammeParams, StepContext, make_programme, register
from .discount import DiscountParams, DiscountProgramme
from .engagement import EngagementParams, EngagementProgramme

__all__ = [
    "REGISTRY",
    "DiscountParams",
    "DiscountProgramme",
    "EngagementParams",
    "EngagementProgramme",
    "Programme",
    "ProgrammeParams",
    "StepContext",
    "make_programme",
    "register",
]
