"""The learned score's features: names, order and meaning, shared by the simulator (which
trains the model) and the risk engine (which computes them for a live movement).

The model file records this list; loading refuses a file whose list differs, so a model
is never fed features in an order it was not trained on. Every feature is computed from
what was known *before* the movement (its own outcome is never an input), in the units its
name ends with. Windows slide: "1h" is the last 3,600 s before the movement.

Name                          Meaning (how the engine computes it)
----------------------------  ------------------------------------------------------------
op_card                       1 if the movement is a card payment (escrow pay, top-up by card)
op_transfer                   1 if a transfer to a payee or another account (incl. cheques,
                              withdrawals)
op_refund                     1 if a merchant refund to the customer
op_staff                      1 if staff-initiated (a move a staff member keyed in)
amount_log                    ln(1 + amount in minor units)
amount_vs_median              amount / median of the customer's last 50 amounts (1.0 if none)
velocity_customer_1h          the customer's movements (any outcome) in the last hour
velocity_customer_24h         the same over 24 h
velocity_device_1h            movements from this device id in the last hour, any customer
velocity_card_1h              movements on this card fingerprint in the last hour
velocity_address_24h          movements from this address (IP or shipping) in 24 h
velocity_payee_24h            transfers to this payee in 24 h, any sender
velocity_bin_1h               card movements on this BIN in the last hour
declines_card_1h              declined attempts on this card fingerprint in the last hour
declines_address_1h           declined attempts from this address in the last hour
new_device                    1 if the customer never used this device before
new_address                   1 if the customer never used this address before
new_payee                     1 if the customer's first movement to this payee is under 24 h
                              old (or this is it): a new or cooling payee
payee_age_h                   hours since the customer first paid this payee, capped at 720
account_age_d                 days since the customer's account was opened
hour_of_day                   the hour (0-23) in the customer's time zone
hour_vs_habit_h               circular distance (0-12 h) from the customer's mean hour
merchant_refund_rate_30d      the merchant's refunds / card payments over 30 d (0 for none)
merchant_dispute_rate_30d     the merchant's disputes / card payments over 30 d
customer_refunds_30d          refunds the customer received in 30 d
customer_refund_ratio_30d     refunded / purchased amount for the customer over 30 d
                              (capped at 10)
merchant_refunds_to_customer_30d
                              earlier refunds from this merchant to this customer in 30 d
                              (0 unless op_refund)
refund_vs_purchases_30d       (this refund + earlier ones from this merchant to this
                              customer in 30 d) / the customer's purchases there in 30 d;
                              0 unless op_refund; 10 (the cap) if nothing was bought there
device_customers              distinct customers seen on this device ever
address_customers             distinct customers seen at this address ever
card_devices_24h              distinct devices using this card fingerprint in 24 h
payee_customers               distinct customers who paid this payee ever
inflow_age_s                  seconds since the sender last received a transfer, capped at
                              604,800 (7 d); the in-and-out speed of a mule
passthrough_ratio_24h         amount / transfers received in the last 24 h (0 if none;
                              capped at 10)
chain_depth                   hops of quick (< 2 h) in-then-out transfers ending at the
                              sender: 0 for none, 1 if money came in and goes on, ...
staff_moves_24h               moves keyed by the same staff member in 24 h (0 unless op_staff)

Registry, list and sanctions hits are not model features: they are reasons of their own.
"""

from __future__ import annotations

FEATURES: tuple[str, ...] = (
    "op_card", "op_transfer", "op_refund", "op_staff",
    "amount_log", "amount_vs_median",
    "velocity_customer_1h", "velocity_customer_24h", "velocity_device_1h",
    "velocity_card_1h", "velocity_address_24h", "velocity_payee_24h", "velocity_bin_1h",
    "declines_card_1h", "declines_address_1h",
    "new_device", "new_address", "new_payee", "payee_age_h",
    "account_age_d", "hour_of_day", "hour_vs_habit_h",
    "merchant_refund_rate_30d", "merchant_dispute_rate_30d",
    "customer_refunds_30d", "customer_refund_ratio_30d",
    "merchant_refunds_to_customer_30d", "refund_vs_purchases_30d",
    "device_customers", "address_customers", "card_devices_24h", "payee_customers",
    "inflow_age_s", "passthrough_ratio_24h", "chain_depth",
    "staff_moves_24h",
)

PAYEE_AGE_H_MAX = 720.0
INFLOW_AGE_S_MAX = 604_800.0
RATIO_MAX = 10.0
CHAIN_GAP_S_MAX = 7_200  # an in-then-out within this many seconds extends a chain
