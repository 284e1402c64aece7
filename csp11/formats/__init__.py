"""Formats: key BLOBs, domain parameters, DH groups, byte order — pure code, no token.

The bottom layer above errors and argument checks: every module here is
declarative or arithmetic and is tested without a token.
"""
