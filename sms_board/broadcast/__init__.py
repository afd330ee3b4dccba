"""Texts that leave the board: the outbox, transports and the sender (digests and broadcasts join here)."""
