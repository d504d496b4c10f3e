"""Benefits (льготы) and social protection: categories as data, the arithmetic of a benefit (pure,
:mod:`.rules`) and its computation for a period (:mod:`.run`). See docs/benefits.md."""

from meterhub.billing.benefits.rules import BenefitBase, BenefitCategory, BenefitInput, benefit_amount

__all__ = ["BenefitBase", "BenefitCategory", "BenefitInput", "benefit_amount"]
