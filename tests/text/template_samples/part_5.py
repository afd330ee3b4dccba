"""Samples for the language line that ends MY on a board of more than one language."""

from tests.text.template_samples import Sample

SAMPLES: dict[str, list[Sample]] = {
    "my_language": [{"language": "Cymraeg"}, {"language": "English"}, {"language": "polski"}],
}
