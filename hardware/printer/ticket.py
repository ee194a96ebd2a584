"""The queue ticket: one model, and the list of lines every rendering shares.

The caller passes already translated strings; this module never translates. A ticket carries
no personal data: a number, a service, times and counts only.

The paper ticket carries the same lines as the on-screen preview: the citizen's language,
with the service's name in the site's main language alongside. A line the printer's code page
can carry (after dropping accents it lacks, e.g. Polish "ś" → "s") prints as text; any other
(Arabic, Cyrillic on a Latin code page) prints as a picture (`TicketLine.raster`, drawn by
`hardware.printer.raster`). Where no picture can be made (no font or layout engine, or a
script the font lacks), the paper uses the site's main language: `service_name_main` (always
printed), `labels_main`, `bring_main` and `footer_main` when given (English labels, and no
bring list or footer, when not).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from hardware.printer.code_page import DEFAULT_CODE_PAGE, paper_text, paper_text_or_placeholder

# Primary language subtags written right to left, the one list for screens and paper. Not
# "ku": Kurmanji is written in Latin script; Sorani Kurdish (Arabic script) is "ckb".
RTL_LANGUAGES = frozenset(
    {
        "ar",
        "arc",
        "azb",
        "ckb",
        "dv",
        "fa",
        "he",
        "ks",
        "lrc",
        "mzn",
        "nqo",
        "prs",
        "ps",
        "sd",
        "syr",
        "ug",
        "ur",
        "yi",
    }
)


def is_rtl(language: str) -> bool:
    return language.replace("_", "-").split("-")[0].lower() in RTL_LANGUAGES


@dataclass(frozen=True)
class TicketLabels:
    """Fixed texts on a ticket, already translated into one language."""

    your_number: str = "Your number"
    people_ahead: str = "People ahead of you"
    estimated_wait: str = "Estimated wait"
    minutes: str = "minutes"
    bring: str = "Bring"
    follow_your_turn: str = "Follow your turn"

    @classmethod
    def coerce(cls, value: TicketLabels | Mapping[str, str] | None) -> TicketLabels:
        if value is None:
            return cls()
        if isinstance(value, TicketLabels):
            return value
        return cls(**dict(value))

    def texts(self) -> tuple[str, ...]:
        return dataclasses.astuple(self)


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on one queue ticket (and shown in its preview)."""

    municipality: str
    number: str
    service_name: str
    service_name_main: str
    issued_at: datetime
    people_ahead: int
    estimated_wait_minutes: int | None
    bring: Sequence[str]
    status_url: str
    footer: str
    language: str
    labels: TicketLabels = field(default_factory=TicketLabels)
    # Main-language versions, printed when the citizen's language cannot be (see module doc).
    labels_main: TicketLabels | None = None
    bring_main: Sequence[str] | None = None
    footer_main: str | None = None

    def __post_init__(self) -> None:
        # Frozen and hashable: lists become tuples, label dicts become TicketLabels.
        object.__setattr__(self, "bring", tuple(self.bring))
        object.__setattr__(self, "labels", TicketLabels.coerce(self.labels))
        if self.labels_main is not None:
            object.__setattr__(self, "labels_main", TicketLabels.coerce(self.labels_main))
        if self.bring_main is not None:
            object.__setattr__(self, "bring_main", tuple(self.bring_main))
        if not self.number:
            raise ValueError("a ticket needs a number")
        if self.people_ahead < 0:
            raise ValueError("people_ahead cannot be negative")


@dataclass(frozen=True)
class TicketLine:
    """One line of ticket content; `role` tells renderers how to style it.

    Roles, in ticket order: municipality, number_label, number, service, service_main, issued,
    people_ahead, estimated_wait, bring_label, bring_item, qr (text = the URL to encode),
    follow_label, status_url, footer.
    """

    role: str
    text: str
    raster: bool = False  # on paper: printed as a picture, the code page cannot carry it


# Lines in the citizen's language. When one of them can be printed neither as text nor as a
# picture, the whole ticket is printed in the main language: never half a translation.
CITIZEN_ROLES = frozenset(
    {"number_label", "service", "people_ahead", "estimated_wait", "bring_label", "bring_item", "follow_label", "footer"}
)


@dataclass(frozen=True)
class PaperTicket:
    lines: list[TicketLine]
    # False: the citizen's language could not be printed, the paper is in the main language.
    complete: bool


def format_issued(issued_at: datetime) -> str:
    # Numeric day/month/year is read the same way in every language of a Belgian office.
    return issued_at.strftime("%d/%m/%Y %H:%M")


def ticket_lines(ticket: TicketPrint, *, paper: bool = False, code_page: str = DEFAULT_CODE_PAGE) -> list[TicketLine]:
    """The ticket's content as lines: the screen version, or with `paper=True` what the printer
    can print in `code_page` as text alone (see `paper_ticket` for pictures)."""
    if paper:
        return paper_ticket(ticket, code_page).lines
    return _lines(
        ticket,
        _Content(service=ticket.service_name, labels=ticket.labels, bring=tuple(ticket.bring), footer=ticket.footer),
    )


def paper_ticket(
    ticket: TicketPrint,
    code_page: str = DEFAULT_CODE_PAGE,
    covers: Callable[[str], bool] | None = None,
) -> PaperTicket:
    """The lines to print. With `covers` (whether pictures can show a text), the screen's
    lines, each as text in `code_page` or else marked `raster`; without it, or when a line in
    the citizen's language cannot be shown, text alone (see the module doc)."""
    if covers is not None:
        lines = []
        for line in ticket_lines(ticket):
            text = line.text if line.role == "qr" else paper_text(line.text, code_page)
            if text is not None:
                lines.append(TicketLine(line.role, text))
            elif covers(line.text):
                lines.append(TicketLine(line.role, line.text, raster=True))
            elif line.role in CITIZEN_ROLES:
                break
            else:  # the municipality's or the main service name: one odd character
                lines.append(TicketLine(line.role, paper_text_or_placeholder(line.text, code_page)))
        else:
            return PaperTicket(lines, complete=True)
    content, complete = _paper_content(ticket, code_page)
    # Texts that were not swapped for a main-language version (municipality, main service
    # name) still must not stop a ticket: unprintable characters become "?".
    lines = [TicketLine(line.role, paper_text_or_placeholder(line.text, code_page)) for line in _lines(ticket, content)]
    return PaperTicket(lines, complete)


def _lines(ticket: TicketPrint, content: _Content) -> list[TicketLine]:
    labels = content.labels
    lines = [
        TicketLine("municipality", ticket.municipality),
        TicketLine("number_label", labels.your_number),
        TicketLine("number", ticket.number),
    ]
    if content.service:
        lines.append(TicketLine("service", content.service))
    if ticket.service_name_main and ticket.service_name_main != content.service:
        lines.append(TicketLine("service_main", ticket.service_name_main))
    lines.append(TicketLine("issued", format_issued(ticket.issued_at)))
    lines.append(TicketLine("people_ahead", f"{labels.people_ahead}: {ticket.people_ahead}"))
    if ticket.estimated_wait_minutes is not None:
        lines.append(
            TicketLine(
                "estimated_wait",
                f"{labels.estimated_wait}: {ticket.estimated_wait_minutes} {labels.minutes}",
            )
        )
    if content.bring:
        lines.append(TicketLine("bring_label", labels.bring))
        lines.extend(TicketLine("bring_item", item) for item in content.bring)
    if ticket.status_url:
        lines.append(TicketLine("qr", ticket.status_url))
        lines.append(TicketLine("follow_label", labels.follow_your_turn))
        lines.append(TicketLine("status_url", ticket.status_url))
    if content.footer:
        lines.append(TicketLine("footer", content.footer))
    return lines


@dataclass(frozen=True)
class _Content:
    service: str | None
    labels: TicketLabels
    bring: tuple[str, ...]
    footer: str | None


def _paper_content(ticket: TicketPrint, code_page: str) -> tuple[_Content, bool]:
    """The content text mode can print, and whether it is all the citizen's."""
    rtl = is_rtl(ticket.language)

    def printable(text: str) -> str | None:
        return None if rtl else paper_text(text, code_page)

    service = printable(ticket.service_name)

    label_texts = ticket.labels.texts()
    paper_labels = [text for text in map(printable, label_texts) if text is not None]
    labels_printable = len(paper_labels) == len(label_texts)
    labels = TicketLabels(*paper_labels) if labels_printable else ticket.labels_main or TicketLabels()

    paper_bring = tuple(text for text in map(printable, ticket.bring) if text is not None)
    bring_printable = len(paper_bring) == len(ticket.bring)
    bring = paper_bring if bring_printable else tuple(ticket.bring_main or ())

    footer = printable(ticket.footer) if ticket.footer else None
    footer_printable = footer is not None or not ticket.footer
    if not footer_printable:
        footer = ticket.footer_main

    complete = service is not None and labels_printable and bring_printable and footer_printable
    return _Content(service=service, labels=labels, bring=bring, footer=footer), complete
