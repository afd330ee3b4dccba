"""Samples for the templates converted first, as the pattern for the rest."""

from tests.text.template_samples import ELM, OAK, Sample

SAMPLES: dict[str, list[Sample]] = {
    "stop_confirm": [{}],
    "areas": [
        {"areas": [ELM, OAK], "mine": [ELM]},
        {"areas": [ELM], "mine": []},
        {"areas": [], "mine": []},
    ],
    "language_offer": [{"word": "CYMRAEG"}, {"word": "ENGLISH"}],
    "language_set": [{"language": "Cymraeg"}, {"language": "English"}],
    "language_list": [{"languages": [("Cymraeg", "CY"), ("English", "EN"), ("polski", "PL")], "current": None}],
    "broadcast_preview": [
        {"areas": [ELM], "recipients": 1, "segments": 1, "cost": "£0.04", "urgent": False},
        {"areas": [ELM, OAK], "recipients": 212, "segments": 2, "cost": "£16.96", "urgent": True},
    ],
}
