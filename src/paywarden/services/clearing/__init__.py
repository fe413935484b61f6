"""The clearing network's services (decision 0053): transport, peers, the hub, the bank
side (bank/), net windows (windows.py), reconciliation, export."""
