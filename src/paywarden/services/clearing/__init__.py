"""The clearing network (decision 0053): transport, hub, windows and the bank side."""
