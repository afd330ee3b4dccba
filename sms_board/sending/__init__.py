"""The outbox life cycle and everything that hands a text to the outside world.

`outbox` writes rows, `delivery` owns every status change, `sender` drains the
queue through a `transport` at the rate `ratelimit` shares between senders and
`outcomes` reads what each send (and Twilio's status callback) says into a move;
`reachability` says who may be texted, `opt_outs` is where a number stops; `quiet`
says when held texts may go, `twilio_account` checks the Twilio set-up;
`subscription_status` owns a subscription's status (a carrier's opt-out ends them too).
Nothing here knows about keywords, campaigns or Flask.
"""
