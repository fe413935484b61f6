"""The clearing network's services (decision 0053): peers, the transport, the hub, the
bank side (bank/), net windows (windows.py)."""

from .hub import Hub
from .peers import Peer, Peers, PeerState, Role
from .ports import Codec, NetPositions, ParticipantCA, Signer
from .transport import PeerRefused, PeerUnavailable, Received, Transport

__all__ = ["Codec", "Hub", "NetPositions", "ParticipantCA", "Peer", "PeerRefused",
           "PeerState", "PeerUnavailable", "Peers", "Received", "Role", "Signer", "Transport"]
