"""Core: the plain state behind the public handles, and what every operation shares.

Contexts, keys and hashes as state (rsaenh's KEYCONTAINER, CRYPTKEY,
CRYPTHASH); key policy; templates; the block-cipher engine and the hash
engines; the container store.  Operations (:mod:`csp11.ops`) act on it.
"""
