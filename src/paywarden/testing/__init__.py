"""Test doubles that run outside the test suite too (the benchmarks drive the API with them).

Nothing in the serving code imports this package: a software authenticator is a
client, so shipping it weakens nothing the server checks.
"""
