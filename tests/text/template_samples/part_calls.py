"""Samples for the words of placed calls: a bridged call's greeting, and the requester's reply."""

from tests.text.template_samples import ELM, Sample, thing

NEIGHBOUR = "A neighbour"  # what code passes for someone with no NAME
NAME = "Margaret-Anne Hughes"  # MAX_NAME is 20
REQUEST = thing(ref="R1234", body="Lift to the GP on Thursday", status="published")

SAMPLES: dict[str, list[Sample]] = {
    # Spoken, not texted: the reference is read one character at a time.
    "bridge_call": [{"item": REQUEST, "other": NAME, "area": ELM.name}, {"item": REQUEST, "other": NEIGHBOUR,
                                                                       "area": ELM.name},
                    {"item": REQUEST, "other": NAME, "area": ELM.name, "helped": NAME}],  # a trusted helper reads theirs
    "connected_by_call": [{"item": REQUEST, "other": NAME}, {"item": REQUEST, "other": NEIGHBOUR}],
}
