"""Clearing and settlement between banks and regions: the rules, with no I/O.

messages.py   the ISO 20022 messages as plain values (the codec is adapters/iso20022)
positions.py  deferred net settlement: positions under a net debit cap, windows
"""
