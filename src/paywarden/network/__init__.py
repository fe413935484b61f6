"""The local clearing network: several PayWarden processes on loopback, one data
directory and one database each (`paywarden network up`, the benchmark, the kill tests).

It treats every node as a black box, as an operator would: it starts `paywarden serve`,
runs `paywarden …` commands with the node's environment, and speaks HTTP. It imports no
service (an import-linter contract keeps it so).

plan.py     which nodes: regions, hubs, banks, BICs, bank codes, ports (pure)
runner.py   start, stop, SIGKILL and restart the processes; run a node's commands
"""

from .plan import Node, Plan, plan
from .runner import Network

__all__ = ["Network", "Node", "Plan", "plan"]
