"""A consent and its receipt as a person reads them: rows of plain words, a history, and a PDF.

The signed receipt (``gateway.consents.flow.receipt``) is the proof; this is the same record in
the participant's language, as a page and as a PDF (fpdf2, drawn in Python: no browser at run
time). The PDF uses the standard Helvetica font, so its text is limited to Windows-1252.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from consent.schemas import ConsentEventView, ConsentView
from gateway.web.i18n import local_time, plain, translator, words

EVENT_KINDS = ("granted", "amended", "superseded", "revoked", "expired")


@dataclass(frozen=True)
class ReadableReceipt:
    """The receipt in one language: a title, an introduction, term/value rows and a history."""

    title: str
    intro: str
    rows: list[tuple[str, str]]
    history: list[tuple[str, str, str]]


def event_rows(
    language: str, events: list[ConsentEventView], names: Mapping[str, str]
) -> list[tuple[str, str, str]]:
    """Each event as (when, what, who) in plain words; the newest last, as it happened."""
    t = translator(language)
    rows = []
    for event in events:
        what = t(f"event_{event.kind}") if event.kind in EVENT_KINDS else event.kind
        rows.append((local_time(language, event.at), what, _who(t, event.actor, names)))
    return rows


def _who(t: Callable[..., str], actor: str, names: Mapping[str, str]) -> str:
    if actor == "participant":
        return t("you")
    if actor == "schakel":
        return t("by_schakel")
    return names.get(actor, actor)


def readable_receipt(
    language: str,
    consent: ConsentView,
    events: list[ConsentEventView],
    names: Mapping[str, str],
    issued_at: datetime,
) -> ReadableReceipt:
    """The receipt's ISO/IEC TS 27560 fields as rows a participant reads."""
    t = translator(language)
    until = local_time(language, consent.valid_until) if consent.valid_until else t("open_ended")
    rows = [
        (t("receipt_record"), f"{consent.id} (versie {consent.version})"
            if language == "nl" else f"{consent.id} (version {consent.version})"),
        (t("receipt_issued"), local_time(language, issued_at)),
        (t("receipt_who"), names.get(consent.grantee) or plain(language, consent.grantee)),
        (t("receipt_purpose"), plain(language, consent.purpose)),
        (t("receipt_categories"), ", ".join(plain(language, c) for c in consent.categories)),
        (t("status"), plain(language, consent.status.value)),
        (t("since"), local_time(language, consent.valid_from)),
        (t("until"), until),
        (t("receipt_given_by"), t(f"given_by_{consent.given_by.value}")),
        (t("receipt_legal"), t("receipt_legal_text")),
        (t("receipt_withdraw"), t("receipt_withdraw_text")),
        (t("who"), t("receipt_subject")),
    ]  # fmt: skip
    return ReadableReceipt(
        title=t("receipt_title"),
        intro=t("receipt_intro"),
        rows=rows,
        history=event_rows(language, events, names),
    )


def receipt_pdf(receipt: ReadableReceipt, language: str) -> bytes:
    """The readable receipt as an A4 PDF, tagged with its language. fpdf2 (with fontTools and
    Pillow) is loaded on the first PDF: a gateway that draws none does not carry its memory."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_lang(language)
    pdf.set_title(receipt.title)
    pdf.set_creator("Schakel")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, _latin(receipt.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, _latin(receipt.intro), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for term, value in receipt.rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, 5, _latin(term), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, _latin(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, _latin(words(language)["history"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for moment, what, who in receipt.history:
        pdf.multi_cell(0, 5, _latin(f"{moment}: {what} ({who})"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin(text: str) -> str:
    """Text the standard fonts can draw: Windows-1252, anything else as a question mark."""
    return text.encode("cp1252", errors="replace").decode("cp1252")
