"""The fault suite: real processes killed with SIGKILL, a fake Twilio failing on purpose (docs/reliability.md)."""
