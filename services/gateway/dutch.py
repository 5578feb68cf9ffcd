"""The words the admin UI shows (Dutch, as in the users' manual), for codes and messages that the
services answer in English."""
from __future__ import annotations

LVS_STATUS = {  # the texts docs/results.md suggests
    "active": "Actief",
    "retrying": "Versturen mislukt, wordt automatisch opnieuw geprobeerd",
    "key_rejected": "Autorisatiesleutel geweigerd door het leerlingvolgsysteem. Voer de nieuwe autorisatiesleutel in.",
    "no_consent": "Geen toestemming: er worden geen resultaten verstuurd",
}

RIGHTS_STATE = {  # a coupling's right in Basispoort (licence page)
    "pending": "Wordt doorgegeven aan Basispoort",
    "granted": "Doorgegeven aan Basispoort",
    "superseded": "Doorgegeven aan Basispoort",
    "revoked": "Ingetrokken in Basispoort",
    "failed": "Doorgeven aan Basispoort is mislukt",
}

KIND = {"group": "Licenties per groep", "pupil": "Licenties per kind"}

ROLE = {"ICT": "ict-coördinator", "ICTCoordinator": "ict-coördinator", "LRK": "leerkracht", "TAL": "leerkracht",
        "DIR": "directeur", "IB": "intern begeleider"}

# English messages of the services -> what the user reads
MESSAGES = {
    "no seats available": "Er zijn geen licenties meer beschikbaar. Ontkoppel eerst een leerling.",
    "unknown group": "Deze groep is niet bekend.",
    "unknown pupil": "Deze leerling is niet bekend.",
    "not a group licence": "Dit is een licentie per kind.",
    "not a per-child licence": "Dit is een licentie per groep.",
    "licence not found": "Deze licentie bestaat niet (meer).",
    "coupling not found": "Deze koppeling bestaat niet (meer).",
    "LVS coupling not found": "Deze resultaatkoppeling bestaat niet (meer).",
    "school not found": "Deze school is niet gevonden.",
    "this licence has ended": "Deze licentie is verlopen en kan niet meer worden gekoppeld.",
    # pupil logins (seed §4)
    "must be exactly 4 digits (0-9)": "Een pincode bestaat uit precies 4 cijfers.",
    "must be pincode or pictures": "Kies Pincode of Plaatjes.",
    "not a picture of the picture set": "Kies de plaatjes uit de lijst.",
    "must be exactly 3 pictures": "Kies drie plaatjes.",
    "composite group: change the login method of the pupils' own group":
        "Een samengestelde groep heeft geen eigen login methode: wijzig die van de groep van de leerlingen.",
    "Not a valid email address.": "Dit is geen geldig e-mailadres.",
    "an e-mail address is required": "Vul een e-mailadres in.",
    "already registered": "Dit e-mailadres is al een thuislogin van deze leerling.",
    "at most 2 addresses per pupil": "Een leerling heeft hoogstens twee e-mailadressen voor de thuislogin.",
    "not a home login of this pupil": "Dit e-mailadres is geen thuislogin van deze leerling.",
    "invalid, expired or already used":
        "Deze activeringslink is ongeldig, verlopen of al gebruikt. Vraag de school om een nieuwe.",
}

# messages that carry a name or date: (start of the service's message, Dutch)
PREFIXES = (("the school is already coupled to ", "De school is al gekoppeld aan dit leerlingvolgsysteem."),
            ("already coupled to ", "De school is al gekoppeld aan dit leerlingvolgsysteem."),
            ("ended on ", "Deze licentie is verlopen en kan niet meer worden gekoppeld."))

STATUS_MESSAGES = {
    400: "De invoer is niet juist.",
    401: "Je bent niet (meer) ingelogd.",
    403: "Je hebt geen toegang tot deze pagina. Alleen ict-coördinatoren hebben toegang tot het beheerdeel.",
    404: "Niet gevonden.",
    409: "Dat kan niet: de gegevens zijn intussen gewijzigd.",
    429: "Te veel pogingen. Probeer het later opnieuw.",
    503: "Een onderdeel van het beheerdeel is tijdelijk niet beschikbaar. Probeer het later opnieuw.",
}


_OWN: set[str] = set()


def nl(text: str) -> str:
    """Mark a message the gateway itself writes in Dutch, so the UI shows it as it is."""
    _OWN.add(text)
    return text


def message(exc, status: int) -> str:
    """A Dutch sentence for an error: a field message we know or wrote ourselves, else one per status
    (with the service's own words when they say which field is wrong)."""
    fields = getattr(exc, "fields", None) or {}
    for name, texts in fields.items():
        for text in texts if isinstance(texts, list) else [texts]:
            if not isinstance(text, str):
                continue
            if text in MESSAGES:
                return MESSAGES[text]
            if text in _OWN:
                return text
            for start, dutch_text in PREFIXES:
                if text.startswith(start):
                    return dutch_text
            if status == 400:
                return f"{STATUS_MESSAGES[400]} ({name}: {text})"
    own = getattr(exc, "message", None)
    if own in MESSAGES:
        return MESSAGES[own]
    return STATUS_MESSAGES.get(status, "Er ging iets mis. Probeer het later opnieuw.")
