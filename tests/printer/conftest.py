from datetime import datetime

import pytest

from hardware.printer import TicketLabels, TicketPrint
from hardware.printer.fake_printer import FakeNetworkPrinter

FRENCH_LABELS = TicketLabels(
    your_number="Votre numéro",
    people_ahead="Personnes avant vous",
    estimated_wait="Attente estimée",
    minutes="minutes",
    bring="À préparer",
    follow_your_turn="Suivez votre tour",
)
# An Arabic ticket: right to left, not printable in the code page.
ARABIC = dict(
    language="ar",
    service_name="استلام بطاقة الإقامة",
    service_name_main="Verblijfskaart afhalen",
    labels={
        "your_number": "رقمك",
        "people_ahead": "عدد الأشخاص قبلك",
        "estimated_wait": "وقت الانتظار المتوقع",
        "minutes": "دقائق",
        "bring": "أحضر معك",
        "follow_your_turn": "تابع دورك",
    },
    bring=["بطاقة الإقامة الحالية"],
    bring_main=["Uw huidige verblijfskaart"],
    footer="شكرا لزيارتكم",
    footer_main="Bedankt voor uw bezoek",
)
# A Ukrainian ticket: Cyrillic, with the Ukrainian і, ї and є that PC866 lacks.
UKRAINIAN = dict(
    language="uk",
    service_name="Новий PIN-код з вашим PUK-кодом",
    service_name_main="Nieuwe pincode (met PUK)",
    labels={
        "your_number": "Ваш номер",
        "people_ahead": "Людей перед вами",
        "estimated_wait": "Орієнтовне очікування",
        "minutes": "хвилин",
        "bring": "Візьміть із собою",
        "follow_your_turn": "Стежте за своєю чергою",
    },
    bring=["Ваша посвідка на проживання", "Ваш PUK-код"],
    bring_main=["Uw verblijfskaart", "Uw PUK-code"],
    footer="Дякуємо за візит",
    footer_main="Bedankt voor uw bezoek",
)

DUTCH_LABELS = TicketLabels(
    your_number="Uw nummer",
    people_ahead="Wachtenden voor u",
    estimated_wait="Geschatte wachttijd",
    minutes="minuten",
    bring="Houd klaar",
    follow_your_turn="Volg uw beurt",
)


def ticket(**overrides) -> TicketPrint:
    values = dict(
        municipality="Gemeente Demostad",
        number="A012",
        service_name="Réinitialisation du code PIN",
        service_name_main="Nieuwe pincode (met PUK)",
        issued_at=datetime(2025, 3, 4, 9, 30),
        people_ahead=3,
        estimated_wait_minutes=12,
        bring=[
            "Votre carte de séjour et la lettre PIN/PUK",
            "Nouveaux codes : 5 € (Bancontact), reçu après paiement",
        ],
        status_url="https://q.demostad.be/t/7Kp2",
        footer="Merci de votre visite, à bientôt",
        language="fr",
        labels=FRENCH_LABELS,
        labels_main=DUTCH_LABELS,
    )
    values.update(overrides)
    return TicketPrint(**values)


@pytest.fixture
def make_ticket():
    return ticket


@pytest.fixture
def fake_printer():
    with FakeNetworkPrinter() as fake:
        yield fake
