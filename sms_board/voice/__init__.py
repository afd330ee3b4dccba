"""The board by telephone, the spoken side (docs/voice.md, "What a call says, and the keypad").

- `words`: every spoken word, from the texts' gettext catalogs, in the listener's language, and
  what makes a post speakable (numbers digit by digit, no links, within `<Say>`'s limit);
- `listing`: which posts a call reads (a digest call's batch; the public areas' latest for a caller);
- `script`: the TwiML of each step of a call: greeting, pages of posts, the keypad's menu, the
  answering machine's short message, and the plain words of a call (`spoken_words`);
- `keypad`: what a key does: CAN and STOP through the same pipeline as a text, joining an area;
- `recordings`: the organisers' voice messages (key 0), played through the board, deleted at Twilio;
- `routes`: the Flask blueprint, `/voice/call/<id>…` and `/voice/inbound…`, every request signed.
"""
