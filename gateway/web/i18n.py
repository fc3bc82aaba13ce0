"""The pages' words in Dutch (default) and English, at B1 level: short sentences, everyday words.

Catalogue names (purposes, categories) get a plain label here; an unknown name is shown as is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from gateway.web.conference_words import CONFERENCE, CONFERENCE_LABELS
from gateway.web.officer_words import OFFICER
from gateway.web.portal_words import PORTAL, WHY
from gateway.web.steering_words import STEERING, STEERING_LABELS

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
# People read times on the clock on their wall; UTC stays in tooltips and exports.
LOCAL_ZONE = ZoneInfo("Europe/Amsterdam")
MONTHS = {
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "site": "Schakel",
        "portal": "Mijn gegevens delen",
        "officer": "Privacy-overzicht",
        "skip": "Naar de inhoud",
        "login": "Inloggen",
        "logout": "Uitloggen",
        "login_demo_intro": "Dit is een demo. Vul het demo-BSN in van een testpersoon.",
        "login_bsn": "Demo-BSN (9 cijfers)",
        "login_production": "Inloggen met DigiD kan hier nog niet. Gebruik de app of website van uw gemeente.",
        "signed_in": "U bent ingelogd",
        "continue": "Verder",
        "sign_in_refused": "Inloggen is niet gelukt",
        "sign_in_again": "Opnieuw inloggen",
        "sign_in_failed": "Inloggen is niet gelukt. Probeer het opnieuw.",
        "sign_in_unavailable": "Inloggen kan nu even niet. Probeer het later nog eens.",
        "acr_too_low": "U bent ingelogd op een te laag niveau. Voor deze gegevens is DigiD Substantieel nodig. Log opnieuw in met de DigiD app met een gecontroleerd identiteitsbewijs.",
        "officer_no_role": "Uw organisatie geeft u bij Schakel geen rol. Vraag uw beheerder om toegang.",
        "officer_sign_in_with": "Inloggen via {name}",
        "officer_login_choose": "Kies uw organisatie. U logt in bij uw eigen organisatie.",
        "login_failed": "Dit is geen demo-BSN. Probeer het opnieuw.",
        "officer_login_intro": "Dit is een demo. Vul de code in van een organisatie met de rol privacy-functionaris.",
        "officer_party": "Code van de organisatie",
        "officer_login_failed": "Deze organisatie heeft geen rol als privacy-functionaris.",
        "officer_login_production": "Inloggen als privacy-functionaris kan hier nog niet. Gebruik de API met uw organisatiesleutel.",
        "consents": "Toestemmingen die nu gelden",
        "no_consents": "U heeft nu geen toestemmingen gegeven.",
        "consent_sentence": "{grantee} mag {categories} zien, voor {purpose}.",
        "since": "Sinds",
        "until": "Tot",
        "open_ended": "geen einddatum",
        "narrow": "Minder delen",
        "narrow_help": "Haal het vinkje weg bij wat u niet meer wilt delen.",
        "save_narrow": "Opslaan",
        "revoke": "Intrekken",
        "revoke_help": "Na intrekken ziet deze organisatie deze gegevens niet meer.",
        "receipt": "Bewijs downloaden",
        "details": "Details",
        "grant": "Toestemming geven",
        "grant_for": "Toestemming geven voor: {purpose}",
        "grantee": "Wie mag het zien?",
        "what": "Welke gegevens?",
        "give": "Toestemming geven",
        "access_log": "Wie heeft wat over mij gezien?",
        "access_log_intro": "Hier ziet u wie gegevens over u kreeg of vroeg, wanneer en waarom. Ook wat geweigerd is.",
        "no_access": "Er is nog niets over u gedeeld of gevraagd.",
        "when": "Wanneer",
        "who": "Wie",
        "what_happened": "Wat",
        "why": "Waarom",
        "refused": "Geweigerd",
        "received": "kreeg",
        "asked_refused": "vroeg, maar kreeg niet",
        "recorded_grant": "legde uw toestemming vast over",
        "recorded_amend": "legde een wijziging van uw toestemming vast over",
        "recorded_revoke": "legde vast dat u uw toestemming introk over",
        "you": "U",
        "notices": "Wie is gevraagd gegevens te verwijderen?",
        "notices_intro": "Als u toestemming intrekt of minder deelt, vragen wij iedere organisatie die die gegevens kreeg ze te verwijderen. Hier ziet u wat zij antwoordden.",
        "notice_told": "gevraagd te verwijderen",
        "notice_answer": "Antwoord",
        "notice_open": "nog geen antwoord",
        "notice_deleted": "heeft de gegevens verwijderd",
        "notice_kept": "bewaart de gegevens, omdat de wet dat vraagt",
        "notice_superseded": "vervangen door een nieuwer verzoek",
        "overdue_notices": "Verwijderverzoeken zonder antwoord",
        "overdue_intro": "Organisaties die niet op tijd bevestigden dat zij gegevens verwijderden.",
        "no_overdue": "Geen verzoeken over tijd.",
        "due": "Antwoord uiterlijk",
        "plan": "Mijn plan",
        "director": "Regisseur",
        "no_director": "Er is nog geen regisseur.",
        "goals": "Doelen",
        "actions": "Acties",
        "involved": "Betrokken organisaties",
        "nothing": "Nog niets.",
        "done_grant": "Uw toestemming is opgeslagen.",
        "done_narrow": "Uw toestemming is aangepast.",
        "done_revoke": "Uw toestemming is ingetrokken.",
        "not_found": "Deze pagina bestaat niet, of is niet van u.",
        "csrf": "Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.",
        "error": "Dat lukte niet",
        "back": "Terug naar het overzicht",
        "status": "Status",
        "history": "Geschiedenis",
        "language": "English",
        "audit_search": "Audit-log doorzoeken",
        "subject": "Deelnemer (pseudoniem, of BSN: wordt vastgelegd)",
        "party": "Organisatie",
        "action": "Actie",
        "purpose": "Doel",
        "outcome": "Uitkomst",
        "from": "Vanaf (datum)",
        "until_date": "Tot (datum)",
        "any": "alle",
        "search": "Zoeken",
        "results": "Resultaten",
        "no_results": "Geen regels gevonden.",
        "export_csv": "Exporteren (CSV)",
        "export_ndjson": "Exporteren (NDJSON)",
        "verification": "Controle van de keten",
        "checkpoint": "Laatste ondertekende controlepunt",
        "no_checkpoint": "Nog geen controlepunt.",
        "chart": "Verstrekkingen en weigeringen per organisatie per dag (14 dagen)",
        "disclosures": "verstrekt",
        "denials": "geweigerd",
        "unusual": "Opvallend vandaag",
        "unusual_rule": "Een organisatie staat hier als ze vandaag minstens 3 keer geweigerd is en het deel weigeringen vandaag minstens 30 procentpunt hoger is dan haar eigen gemiddelde van de 13 dagen ervoor.",
        "nothing_unusual": "Niets opvallends.",
        "more": "Volgende pagina",
        "proof": "Bewijs",
        "download_proof": "Download het bewijs dat dit in het logboek staat",
    },
    "en": {
        "site": "Schakel",
        "portal": "Sharing my information",
        "officer": "Privacy overview",
        "skip": "Skip to content",
        "login": "Log in",
        "logout": "Log out",
        "login_demo_intro": "This is a demo. Enter the demo BSN of a test person.",
        "login_bsn": "Demo BSN (9 digits)",
        "login_production": "Logging in with DigiD is not possible here yet. Please use your municipality's app or website.",
        "login_failed": "This is not a demo BSN. Please try again.",
        "officer_login_intro": "This is a demo. Enter the id of an organisation with the privacy officer role.",
        "officer_party": "Organisation id",
        "officer_login_failed": "This organisation has no privacy officer role.",
        "officer_login_production": "Logging in as a privacy officer is not possible here yet. Use the API with your organisation's key.",
        "signed_in": "You are signed in",
        "continue": "Continue",
        "sign_in_refused": "Signing in did not work",
        "sign_in_again": "Sign in again",
        "sign_in_failed": "Signing in did not work. Please try again.",
        "sign_in_unavailable": "Signing in is not possible right now. Please try again later.",
        "acr_too_low": "You signed in at too low a level. This data needs DigiD Substantieel. Sign in again with the DigiD app with a checked identity document.",
        "officer_no_role": "Your organisation gives you no role at Schakel. Ask your administrator for access.",
        "officer_sign_in_with": "Sign in via {name}",
        "officer_login_choose": "Choose your organisation. You sign in at your own organisation.",
        "consents": "Consents in force now",
        "no_consents": "You have not given any consent right now.",
        "consent_sentence": "{grantee} may see {categories}, for {purpose}.",
        "since": "Since",
        "until": "Until",
        "open_ended": "no end date",
        "narrow": "Share less",
        "narrow_help": "Untick what you no longer want to share.",
        "save_narrow": "Save",
        "revoke": "Withdraw",
        "revoke_help": "After you withdraw, this organisation no longer sees this information.",
        "receipt": "Download receipt",
        "details": "Details",
        "grant": "Give consent",
        "grant_for": "Give consent for: {purpose}",
        "grantee": "Who may see it?",
        "what": "Which information?",
        "give": "Give consent",
        "access_log": "Who saw what about me?",
        "access_log_intro": "Here you see who received or asked for information about you, when and why. Also what was refused.",
        "no_access": "Nothing about you has been shared or asked for yet.",
        "when": "When",
        "who": "Who",
        "what_happened": "What",
        "why": "Why",
        "refused": "Refused",
        "received": "received",
        "asked_refused": "asked for, and was refused,",
        "recorded_grant": "recorded your consent about",
        "recorded_amend": "recorded a change of your consent about",
        "recorded_revoke": "recorded that you withdrew your consent about",
        "you": "You",
        "notices": "Who was asked to delete information?",
        "notices_intro": "When you withdraw consent or share less, we ask every organisation that received that information to delete it. Here you see what they answered.",
        "notice_told": "asked to delete",
        "notice_answer": "Answer",
        "notice_open": "no answer yet",
        "notice_deleted": "deleted the information",
        "notice_kept": "keeps the information, because the law requires it",
        "notice_superseded": "replaced by a newer request",
        "overdue_notices": "Deletion requests not answered",
        "overdue_intro": "Organisations that did not confirm in time that they deleted information.",
        "no_overdue": "No requests overdue.",
        "due": "Answer due",
        "plan": "My plan",
        "director": "Director",
        "no_director": "There is no director yet.",
        "goals": "Goals",
        "actions": "Actions",
        "involved": "Organisations involved",
        "nothing": "Nothing yet.",
        "done_grant": "Your consent is saved.",
        "done_narrow": "Your consent is changed.",
        "done_revoke": "Your consent is withdrawn.",
        "not_found": "This page does not exist, or it is not yours.",
        "csrf": "The form has expired. Reload the page and try again.",
        "error": "That did not work",
        "back": "Back to the overview",
        "status": "Status",
        "history": "History",
        "language": "Nederlands",
        "audit_search": "Search the audit log",
        "subject": "Participant (pseudonym, or BSN: this is recorded)",
        "party": "Organisation",
        "action": "Action",
        "purpose": "Purpose",
        "outcome": "Outcome",
        "from": "From (date)",
        "until_date": "Until (date)",
        "any": "any",
        "search": "Search",
        "results": "Results",
        "no_results": "No entries found.",
        "export_csv": "Export (CSV)",
        "export_ndjson": "Export (NDJSON)",
        "verification": "Chain verification",
        "checkpoint": "Latest signed checkpoint",
        "no_checkpoint": "No checkpoint yet.",
        "chart": "Disclosures and denials per organisation per day (14 days)",
        "disclosures": "disclosed",
        "denials": "denied",
        "unusual": "Unusual today",
        "unusual_rule": "An organisation is listed when it was refused at least 3 times today and its share of refusals today is at least 30 percentage points above its own average of the 13 days before.",
        "nothing_unusual": "Nothing unusual.",
        "more": "Next page",
        "proof": "Proof",
        "download_proof": "Download the proof that the log holds this",
    },
}

LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "reintegration": "hulp bij (weer) aan het werk gaan",
        "case-coordination": "één regisseur die uw hulp op elkaar afstemt",
        "care.involvement": "of u in zorg bent en wie uw contactpersoon is",
        "care.work_readiness": "hoe klaar u bent voor werk",
        "care.diagnosis": "uw diagnose",
        "income.benefit": "uw uitkering",
        "work.capacity": "hoeveel u kunt werken",
        "work.reintegration": "uw re-integratietraject",
        "social.support": "hulp van de gemeente (Wmo, schulden, wonen)",
        "plan.goals": "de doelen in uw plan",
        "plan.actions": "de acties in uw plan",
        "ggz": "alle GGZ-zorgaanbieders",
        "uwv": "het hele UWV",
        "gemeente": "alle gemeenten",
        "client-support": "cliëntondersteuning",
        "active": "geldt nu",
        "pending": "gaat later in",
        "expired": "verlopen",
        "revoked": "ingetrokken",
        "superseded": "vervangen door een nieuwe versie",
    },
    "en": {
        "reintegration": "help with getting (back) to work",
        "case-coordination": "one director who coordinates your help",
        "care.involvement": "whether you are in care and who your contact is",
        "care.work_readiness": "how ready you are for work",
        "care.diagnosis": "your diagnosis",
        "income.benefit": "your benefit",
        "work.capacity": "how much you can work",
        "work.reintegration": "your re-integration trajectory",
        "social.support": "support from the municipality (Wmo, debts, housing)",
        "plan.goals": "the goals in your plan",
        "plan.actions": "the actions in your plan",
        "ggz": "all mental-health care providers",
        "uwv": "all of UWV",
        "gemeente": "all municipalities",
        "client-support": "client support",
        "active": "in force",
        "pending": "starts later",
        "expired": "expired",
        "revoked": "withdrawn",
        "superseded": "replaced by a newer version",
    },
}


def choose_language(query: str | None, cookie: str | None, accept_language: str) -> str:
    """``?lang=`` first, then the remembered choice, then the browser's first known language."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def words(language: str) -> dict[str, str]:
    """Every message of a language: the shared ones and each area's."""
    return {
        **MESSAGES[language], **PORTAL[language], **OFFICER[language],
        **CONFERENCE[language], **STEERING[language],
    }  # fmt: skip


def translator(language: str) -> Callable[..., str]:
    messages = words(language)

    def translate(key: str, **values: str) -> str:
        return messages[key].format(**values) if values else messages[key]

    return translate


def plain(language: str, name: str) -> str:
    """A catalogue name in plain words, or the name itself when there is no label."""
    return (
        LABELS[language].get(name)
        or CONFERENCE_LABELS[language].get(name)
        or STEERING_LABELS[language].get(name, name)
    )


def why_needed(language: str, purpose: str, category: str) -> str:
    """Why an organisation needs ``category`` for ``purpose``; empty when we have no text."""
    return WHY[language].get((purpose, category), "")


def local_day(language: str, moment: datetime | date) -> str:
    """``12 nov 2026``: the day on the clock in the Netherlands (a date is taken as it is)."""
    here = moment.astimezone(LOCAL_ZONE) if isinstance(moment, datetime) else moment
    return f"{here.day} {MONTHS[language][here.month - 1]} {here.year}"


def local_time(language: str, moment: datetime) -> str:
    """``12 nov 2026 14:03``: the moment on the clock in the Netherlands, to the minute."""
    here = moment.astimezone(LOCAL_ZONE)
    return f"{local_day(language, moment)} {here:%H:%M}"


def utc_time(moment: datetime) -> str:
    """The moment in UTC to the second, for a tooltip beside the local time."""
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S UTC")
