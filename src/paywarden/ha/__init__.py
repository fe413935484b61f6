"""A local highly available PostgreSQL cluster: Patroni members and etcd on loopback.

For development, tests and ``bench/ha.py``; production runs Patroni as its own
documentation says, with ``docs/ha/patroni.yml``. Like ``paywarden.network``, this runs
processes and talks to them over sockets; it knows nothing of the platform's insides.
"""

from .cluster import Cluster, ClusterFailed, existing
from .plan import Member, Plan, plan

__all__ = ["Cluster", "ClusterFailed", "Member", "Plan", "existing", "plan"]
