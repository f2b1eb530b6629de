"""Customer lookup's queries against pandas: finding customers by id, email or name (any
script's case), and one customer's timeline a page at a time, filtered by event type and dates."""
from __future__ import annotations

import pandas as pd
import pytest

import segwork

pytestmark = pytest.mark.engine_paths  # the embedded fast path and the client API (conftest)

NAMES = {  # customer_id: (name, email)
    "c1": ("Ivan Müller", "ivan.mueller@example.de"),
    "c2": ("ÉLODIE Dubois", "Élodie@Exemple.fr"),
    "c3": ("Şule Yılmaz", "sule@example.com.tr"),
    "c4": ("Ærø Hansen", "aero@example.dk"),
    "c5": ("Дмитрий Иванов", "dmitriy@example.ru"),
    "c6": ("Σοφία Παπαδοπούλου", "sofia@example.gr"),
    "c7": ("Ivan Mustermann", "ivan.m@example.de"),
    "c8": ("İlker Şahin", "ilker@example.com.tr"),
    "c9": ("Straße Ann", "ann@strasse.de"),
    "ÜX1": ("Üma Ümit", "uma@example.com"),
}
SEARCHES = ["IVAN MÜ", "ivan mü", "Ivan M", "élodie", "ÉLODIE@EXEMPLE", "şULE", "ŞULE YIL", "ærø", "ÆRØ H", "ДМИ",
            "дмитрий и", "ΣΟΦΊΑ", "σοφία π", "İLKER", "i̇lker", "STRASSE", "STRAẞE", "ÜX", "üx", "üma", "ÜMA Ü", "c", "zz"]


def found(text: str) -> list[str]:
    """The oracle: id starts with the text as typed; email or name starts with it in any case (str.lower)."""
    needle = text.lower()
    hits = [cid for cid, (name, email) in NAMES.items()
            if cid.startswith(text) or email.lower().startswith(needle) or name.lower().startswith(needle)]
    return sorted(hits, key=lambda cid: (cid != text, cid))


@pytest.fixture
def people(client):
    profiles = pd.DataFrame({
        "customer_id": list(NAMES), "name": [n for n, _ in NAMES.values()], "email": [e for _, e in NAMES.values()],
        "signup_date": pd.Timestamp("2024-01-01", tz="UTC"), "lifetime_value": 10.0,
        "timestamp": pd.Timestamp("2024-01-01", tz="UTC")})
    assert segwork.ingest(client, "customers", profiles).inserted == len(NAMES)
    return client


@pytest.mark.parametrize("text", SEARCHES)
def test_find_customers_ignores_case_in_every_script(people, text):
    result = segwork.find_customers(people, text, limit=50)
    assert (list(result["customer_id"]) if len(result) else []) == found(text)


def test_find_customers_the_reported_case(people):
    assert list(segwork.find_customers(people, "IVAN MÜ")["name"]) == ["Ivan Müller"]
