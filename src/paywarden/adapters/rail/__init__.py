"""The inter-bank rail: how money leaves for, and arrives from, other banks.

Until the settlement issue replaces it with ISO 20022 messages to a hub, the bank talks
to :class:`SimulatedRail`, which answers every instruction at once by a fixed rule.
"""

from .simulated import ChequeItem, Instruction, Rail, RailAnswer, SimulatedRail

__all__ = ["ChequeItem", "Instruction", "Rail", "RailAnswer", "SimulatedRail"]
