"""Browser flows of the admin UI, in Debian's Chromium driven by Playwright.

Run by tests/e2e/test_gateway_browser.py in a process of its own (Playwright's sync API and the
eventlet-patched test process do not mix), against the stack that test started:

    python tests/e2e/browser_flows.py FLOW BASE_URL SCREENSHOT_DIR [--with-results]

Exit status 0 when every step and expectation held; a failing step prints its traceback.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

PASSWORD = "demo-wachtwoord-1"
COORDINATOR = "e.meeuwsen@regenboog.example"
TEACHER = "j.vanbemmel@regenboog.example"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def log_in_with_the_keyboard(page, base: str, email: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/inloggen$"))
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    expect(page.get_by_label("Gebruikersnaam (e-mailadres)")).to_be_focused()  # autofocus
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Wachtwoord")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


def coordinator(page, base: str, shots: Path, with_results: bool) -> None:
    # wrong password first: a clear Dutch error, still on Inloggen
    page.goto(base + "/inloggen")
    page.get_by_label("Gebruikersnaam (e-mailadres)").fill(COORDINATOR)
    page.get_by_label("Wachtwoord").fill("niet-het-wachtwoord")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("alert")).to_have_text("Onjuist e-mailadres of wachtwoord.")
    page.screenshot(path=shots / "inloggen.png")

    log_in_with_the_keyboard(page, base, COORDINATOR)
    expect(page.get_by_role("heading", name="Selecteer school")).to_be_visible()
    page.screenshot(path=shots / "selecteer-school.png")
    page.get_by_role("button", name="Demoschool De Regenboog (99ZZ00)").click()
    expect(page).to_have_url(re.compile(r"/start$"))
    page.get_by_role("link", name="Beheer", exact=True).first.click()
    expect(page.get_by_role("heading", name="Beheer")).to_be_visible()
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    for item in ("Licenties en koppelingen", "Resultaatkoppelingen", "Schoolgegevens", "Help"):
        expect(nav.get_by_role("link", name=item)).to_be_visible()
    expect(nav.get_by_role("button", name="Uitloggen")).to_be_visible()
    expect(page.get_by_text("Laatste Basispoort synchronisatie")).to_be_visible()

    # Schoolgegevens: Groepen -> Details shows the teachers and pupils under the group
    nav.get_by_role("link", name="Schoolgegevens").click()
    tabs = page.get_by_role("navigation", name="Schoolgegevens")
    for tab in ("Gegevens", "Groepen", "ICT-coördinatoren", "Leerkrachten", "Leerlingen"):
        expect(tabs.get_by_role("link", name=tab)).to_be_visible()
    tabs.get_by_role("link", name="Groepen").click()
    page.get_by_role("link", name="Details van 4A").click()
    expect(page.get_by_role("heading", name="Leerkrachten van 4A")).to_be_visible()
    expect(page.get_by_text("Julia van Bemmel")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"Leerlingen van 4A \(6\)"))).to_be_visible()
    expect(page.get_by_text("Noor Jansen")).to_be_visible()
    page.screenshot(path=shots / "groepen-details.png", full_page=True)
    tabs.get_by_role("link", name="ICT-coördinatoren").click()
    expect(page.get_by_role("cell", name="Enrico Meeuwsen")).to_be_visible()
    tabs.get_by_role("link", name="Leerlingen").click()
    page.get_by_label("Zoek op naam").fill("esmee")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("cell", name="Esmee van den Berg")).to_be_visible()
    expect(page.get_by_role("cell", name="Noor Jansen", exact=True)).to_have_count(0)

    # Licenties per groep: Koppelen, Koppel licentie aan groep, Kies een groep, Toevoegen
    nav.get_by_role("link", name="Licenties en koppelingen").click()
    expect(page.get_by_role("heading", name="Licentiebeheer")).to_be_visible()
    expect(page.get_by_role("cell", name="0040190000000010")).to_be_visible()  # ended in 2020
    page.get_by_label("Toon alleen actieve licenties").check()  # submits by itself (progressive JS)
    expect(page).to_have_url(re.compile(r"actief=1"))
    expect(page.get_by_role("cell", name="0040190000000010")).to_have_count(0)
    expect(page.get_by_role("cell", name="0040207781000010")).to_be_visible()
    page.screenshot(path=shots / "licenties-per-groep.png", full_page=True)
    page.get_by_role("link", name="Koppelen: Argus Clou aardrijkskunde digibordsoftware groep 7").click()
    for fact in ("ISBN", "Artikelnr.", "Contractnr."):
        expect(page.get_by_text(fact, exact=True)).to_be_visible()
    expect(page.get_by_text("0040207781000010")).to_be_visible()
    page.get_by_label("Koppel licentie aan groep").select_option(label="4A")
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.get_by_role("status")).to_have_text("De licentie is aan de groep gekoppeld.")
    expect(page.get_by_role("cell", name="4A", exact=True)).to_be_visible()
    page.screenshot(path=shots / "licentie-gekoppeld.png", full_page=True)
    page.get_by_role("link", name="« Terug").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="0040207781000010"))
    expect(row.get_by_role("cell", name="4A", exact=True)).to_be_visible()  # the list names its coupled groups

    # Licenties per kind: seats until "Nog 0 licenties beschikbaar", then the refusal, then ontkoppelen
    page.get_by_role("link", name="Licenties per kind").click()
    page.get_by_role("link", name=re.compile(r"Koppelen: De wereld in getallen 4")).click()
    expect(page.get_by_text("Nog 2 licenties beschikbaar")).to_be_visible()
    # with the keyboard: an arrow key in "Kies een groep" does not reload the page; the button does
    page.get_by_label("Kies een groep").focus()
    page.keyboard.press("ArrowDown")
    expect(page).not_to_have_url(re.compile(r"groep="))
    expect(page.get_by_label("Kies een groep")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Toon leerlingen"
    expect(page).to_have_url(re.compile(r"groep="))
    for pupil, left in (("Noor Jansen", 1), ("Daan Bakker", 0)):
        page.get_by_label("Kies een groep").select_option(label="4A")
        page.get_by_role("button", name="Toon leerlingen").click()  # reloads with the group's pupils
        page.get_by_label("Kies een leerling").select_option(label=pupil)
        page.get_by_role("button", name="Toevoegen").click()
        expect(page.get_by_role("status").filter(has_text="gekoppeld")).to_have_text(
            "De leerling is aan de licentie gekoppeld.")
        expect(page.get_by_text(f"Nog {left} licenties beschikbaar")).to_be_visible()
        expect(page.get_by_role("cell", name=pupil, exact=True)).to_be_visible()
    page.get_by_label("Kies een groep").select_option(label="4A")
    page.get_by_role("button", name="Toon leerlingen").click()
    page.get_by_label("Kies een leerling").select_option(label="Emma Visser")
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.get_by_role("alert")).to_contain_text("Er zijn geen licenties meer beschikbaar")
    expect(page.get_by_text("Nog 0 licenties beschikbaar")).to_be_visible()
    expect(page.get_by_role("cell", name="Emma Visser", exact=True)).to_have_count(0)
    page.screenshot(path=shots / "licenties-per-kind-vol.png", full_page=True)
    page.get_by_role("button", name="Noor Jansen ontkoppelen").click()
    expect(page.get_by_role("status").filter(has_text="Ontkoppeld")).to_be_visible()
    expect(page.get_by_text("Nog 1 licenties beschikbaar")).to_be_visible()
    expect(page.get_by_role("cell", name="Noor Jansen", exact=True)).to_have_count(0)
    page.get_by_role("link", name="« Terug").click()
    expect(page.get_by_role("link", name="Licenties per kind")).to_have_attribute("aria-current", "page")

    if with_results:
        resultaatkoppeling(page, shots)

    # Selecteer school can be changed
    page.get_by_role("link", name="Wissel van school").click()
    page.get_by_role("button", name="Demoschool De Zonnewijzer (99YY00)").click()
    expect(page.get_by_text("Demoschool De Zonnewijzer (99YY00)")).to_be_visible()
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("status")).to_have_text("Je bent uitgelogd.")
    page.goto(base + "/beheer/licenties")
    expect(page).to_have_url(re.compile(r"/inloggen$"))


def resultaatkoppeling(page, shots: Path) -> None:
    nav = page.get_by_role("navigation", name="Hoofdmenu")
    nav.get_by_role("link", name="Resultaatkoppelingen").click()
    expect(page.get_by_role("heading", name="Resultaatkoppelingen")).to_be_visible()
    page.get_by_label(re.compile("De school geeft toestemming")).check()
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_have_text("Toestemming is gegeven.")
    page.get_by_role("link", name="Koppeling toevoegen").click()
    page.get_by_role("button", name="Opslaan").click()  # nothing chosen: the browser refuses (required fields)
    expect(page).to_have_url(re.compile(r"/toevoegen$"))
    page.get_by_label("Leerlingvolgsysteem", exact=True).select_option(label="Momento")
    page.get_by_label("Adres van het leerlingvolgsysteem", exact=False).fill("https://lvs.example/uwlr")
    page.get_by_label("Autorisatiesleutel").fill("88MMO-DEMO-SLEUTEL-1234")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_have_text("De koppeling is opgeslagen.")
    row = page.get_by_role("row").filter(has_text="Momento")
    expect(row).to_contain_text("Actief")
    expect(row).to_contain_text("1234")
    expect(row).not_to_contain_text("88MMO-DEMO")  # only the key's last characters are shown
    page.screenshot(path=shots / "resultaatkoppelingen.png", full_page=True)


def teacher(page, base: str, shots: Path, with_results: bool) -> None:
    log_in_with_the_keyboard(page, base, TEACHER)
    expect(page).to_have_url(re.compile(r"/start$"))  # one school: no Selecteer school
    expect(page.get_by_role("heading", name="Startpagina")).to_be_visible()
    # per method, the licences of her groups, by product type in the manual's order
    expect(page.get_by_role("heading", level=2)).to_have_text(["Argus Clou", "Taal Actief 4"])
    taal = page.get_by_role("region", name="Taal Actief 4")
    expect(taal.get_by_role("heading", level=3)).to_have_text(["Oefensoftware", "Toetssoftware"])
    expect(taal.get_by_role("listitem").first).to_contain_text("Taal Actief 4 oefensoftware spelling groep 4")
    expect(taal.get_by_role("listitem").first).to_contain_text("4A")
    expect(page.get_by_role("link", name="Beheer")).to_have_count(0)
    expect(page.get_by_role("link", name="Licenties en koppelingen")).to_have_count(0)
    page.screenshot(path=shots / "startpagina-leerkracht.png", full_page=True)
    response = page.goto(base + "/beheer/licenties")
    assert response.status == 403, response.status
    expect(page.get_by_role("alert")).to_contain_text("Alleen ict-coördinatoren hebben toegang tot het beheerdeel")


def latest_mail_link(pattern: str) -> str:
    """The newest .eml in KOPPEL_MAIL_DIR (the test's mail folder) that holds `pattern`: its match."""
    import email
    import email.policy
    import os

    folder = Path(os.environ["KOPPEL_MAIL_DIR"])
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found = re.search(pattern, message.get_content())
        if found:
            return found.group(0)
    raise AssertionError(f"no mail in {folder} matches {pattern}")


def logins(page, base: str, shots: Path, with_results: bool) -> None:
    """Seed §4: Groepen -> the group's name -> pupils and their logins; change the group's method,
    a pincode (a wrong one first), add a Thuislogin address; Printversie; the parent activates."""
    log_in_with_the_keyboard(page, base, COORDINATOR)
    page.get_by_role("button", name="Demoschool De Regenboog (99ZZ00)").click()
    page.get_by_role("link", name="Beheer", exact=True).first.click()
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Schoolgegevens").click()
    page.get_by_role("navigation", name="Schoolgegevens").get_by_role("link", name="Groepen").click()
    page.get_by_role("link", name="Leerlingen en wachtwoorden van 4A").click()
    expect(page.get_by_role("heading", name="Leerlingen en wachtwoorden van 4A")).to_be_visible()
    noor = page.get_by_role("row").filter(has_text="Noor")
    expect(noor).to_contain_text("Pincode")
    expect(noor.locator(".pincode")).to_have_text(re.compile(r"^[0-9]{4}$"))

    page.get_by_label("Plaatjes").check()
    page.get_by_role("button", name="Wijzig login methode voor de groep").click()
    expect(page.get_by_role("status")).to_have_text("De login methode van de groep is nu: Plaatjes.")
    expect(noor.locator(".pictures svg")).to_have_count(3)
    page.screenshot(path=shots / "wachtwoorden-groep.png", full_page=True)

    # Printversie: a PDF for the group (the test reads its text back)
    href = page.get_by_role("link", name=re.compile("^Printversie")).get_attribute("href")
    pdf = page.request.get(base + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf", pdf.status
    assert pdf.body()[:5] == b"%PDF-"

    page.get_by_role("link", name="Wachtwoord/leerlingplaatje wijzigen van Noor").click()  # substring
    expect(page.get_by_role("heading", name="Wijzigen login")).to_be_visible()
    page.get_by_label("Nieuwe pincode").fill("12a4")
    page.get_by_role("button", name="Wijzig").first.click()
    expect(page.get_by_role("alert")).to_have_text("Een pincode bestaat uit precies 4 cijfers.")
    page.get_by_label("Nieuwe pincode").fill("2468")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("De pincode is gewijzigd.")
    expect(page.get_by_text("Pincode: 2468")).to_be_visible()

    # a new picture login, chosen from the fixed set
    for i, label in enumerate(("Zon", "Maan", "Ster"), start=1):
        page.get_by_label(f"Plaatje {i}", exact=True).select_option(label=label)
    page.get_by_role("region", name="Leerlingplaatjes").get_by_role("button", name="Wijzig").click()
    expect(page.get_by_role("status")).to_have_text("De leerlingplaatjes zijn gewijzigd.")
    expect(page.get_by_text("(Zon, Maan, Ster)")).to_be_visible()

    page.get_by_label("E-mailadres 1").fill("ouder.jansen@example.org")
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.get_by_role("status")).to_have_text("Er is een activeringsmail gestuurd naar ouder.jansen@example.org.")
    expect(page.get_by_text("E-mailadres 1: ouder.jansen@example.org")).to_be_visible()
    page.screenshot(path=shots / "wijzigen-login.png", full_page=True)
    page.get_by_role("link", name="« Terug").click()
    expect(page.get_by_role("row").filter(has_text="Noor")).to_contain_text("1 e-mailadres")

    # the parent opens the link from the mail in a browser without any session
    link = latest_mail_link(r"https?://\S+/thuislogin/activeren\?token=\S+")
    parent = page.context.browser.new_page(locale="nl-NL")
    parent.goto(base + link[link.index("/thuislogin"):])
    parent.get_by_role("button", name="Thuislogin activeren").click()
    expect(parent.get_by_role("status")).to_have_text("De thuislogin voor ouder.jansen@example.org is geactiveerd.")
    parent.close()

    # and the coordinator removes the address again
    page.get_by_role("link", name="Wachtwoord/leerlingplaatje wijzigen van Noor").click()
    page.get_by_role("button", name="ouder.jansen@example.org verwijderen").click()
    expect(page.get_by_role("status")).to_have_text("ouder.jansen@example.org is verwijderd.")
    expect(page.get_by_text("Nog geen e-mailadressen.")).to_be_visible()


FLOWS = {"coordinator": coordinator, "teacher": teacher, "logins": logins}


def main(flow: str, base: str, shots: str, with_results: bool) -> None:
    shots_dir = Path(shots)
    shots_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="nl-NL")
            page.set_default_timeout(10_000)
            FLOWS[flow](page, base.rstrip("/"), shots_dir, with_results)
        finally:
            browser.close()
    print(f"flow {flow}: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], "--with-results" in sys.argv)
