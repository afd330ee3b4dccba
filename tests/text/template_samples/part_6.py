"""Samples for DIGEST CALL / DIGEST TEXT's answers and MY's line on how digests come (docs/voice.md)."""

from tests.text.template_samples import Sample

SAMPLES: dict[str, list[Sample]] = {
    "digest_hearing": [{"refused": False, "hears_by": "voice"}, {"refused": False, "hears_by": "sms"},
                       {"refused": True, "hears_by": "sms"}],
    "my_hearing": [{"hears_by": "voice"}, {"hears_by": "sms"}],
}
