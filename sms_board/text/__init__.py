"""Text tools: SMS segments, reading a text for routing, phone numbers, the templates every text is written from."""
