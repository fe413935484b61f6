"""The audit log's rules: RFC 9162 Merkle tree hashing and proofs, and the leaf format."""
