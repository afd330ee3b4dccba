"""Samples for the 1st-of-the-month text to organisers (docs/reports.md)."""

from datetime import date

from tests.text.template_samples import ELM, Sample, thing

SAMPLES: dict[str, list[Sample]] = {
    "monthly_report": [
        {"month": date(2026, 11, 1), "area": ELM, "hours": "31", "hours_count": 31,
         "figures": {"new_connections": 12, "requests_unanswered_3_days": 3},
         "link": "board.example.org/dashboard/reports?area=elm"},
        {"month": date(2026, 2, 1), "area": thing(name="Llanfair Pwllgwyngyll and the Menai Bridge estates"),
         "hours": "1.5", "hours_count": 2, "figures": {"new_connections": 1, "requests_unanswered_3_days": 0},
         "link": None},
    ],
}
