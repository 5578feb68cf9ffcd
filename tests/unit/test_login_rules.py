"""Pupil-login rules that need no database: generation, input contracts, pictures, the PDF layout."""
import io

import pytest
from lxml import etree
from pypdf import PdfReader

from services.roster import login_schemas as ls
from services.roster import login_sheet, logins, pictures
from shared.errors import InvalidInput


def test_generated_pincodes_are_four_digits_and_never_the_guessable_ones():
    codes = [logins.new_pincode() for _ in range(3000)]
    assert all(len(c) == 4 and c.isascii() and c.isdigit() for c in codes)
    assert not set(codes) & logins.GUESSABLE_PINCODES
    assert len(set(codes)) > 2000  # random, not a counter or a constant


def test_generated_picture_logins_are_distinct_pictures_of_the_set():
    for _ in range(500):
        login = logins.new_pictures()
        assert len(login) == pictures.PICTURE_LOGIN_LENGTH == 3
        assert len(set(login)) == 3 and set(login) <= set(pictures.NAMES)


@pytest.mark.parametrize("pincode", ["123", "12345", "12a4", " 1234", "1234\n", "١٢٣٤", "", None, 1234, "12.4"])
def test_a_pincode_is_exactly_four_ascii_digits(pincode):
    with pytest.raises(InvalidInput) as err:
        ls.load(ls.PincodeInput(), {"pincode": pincode, "by": "ict@school.nl"})
    assert list(err.value.fields) == ["pincode"]
    if isinstance(pincode, str) and pincode.strip():
        assert pincode.strip() not in str(err.value.fields)  # the error never echoes the secret


def test_a_valid_pincode_and_author_load():
    assert ls.load(ls.PincodeInput(), {"pincode": "0000", "by": "ict@school.nl"}) == \
        {"pincode": "0000", "by": "ict@school.nl"}


@pytest.mark.parametrize("value, expected", [
    (["zon", "maan"], "must be exactly 3 pictures"),
    (["zon", "maan", "ster", "vis"], "must be exactly 3 pictures"),
    (["zon", "maan", "draak"], "item 3: not a picture of the picture set"),
    ("zon,maan,ster", "Not a valid list."),
])
def test_a_picture_login_is_three_pictures_of_the_set(value, expected):
    with pytest.raises(InvalidInput) as err:
        ls.load(ls.PicturesInput(), {"pictures": value, "by": "ict"})
    assert err.value.fields == {"pictures": [expected]}


def test_method_and_author_are_checked_by_field():
    with pytest.raises(InvalidInput) as err:
        ls.load(ls.MethodInput(), {"method": "password", "by": ""})
    assert set(err.value.fields) == {"method", "by"}


@pytest.mark.parametrize("answer", [{}, {"pincode": "1234", "pictures": ["zon", "maan", "ster"]}])
def test_verify_needs_exactly_one_answer(answer):
    with pytest.raises(InvalidInput) as err:
        ls.load(ls.VerifyInput(), {"pincode": None, "pictures": None, **answer})
    assert list(err.value.fields) == ["login"]


@pytest.mark.parametrize("email", ["ouder", "ouder@", "@example.nl", "ouder@@example.nl", "a b@example.nl",
                                   "x" * 250 + "@example.nl"])
def test_home_email_must_be_an_address(email):
    with pytest.raises(InvalidInput) as err:
        ls.load(ls.HomeEmailInput(), {"email": email})
    assert list(err.value.fields) == ["email"]


def test_picture_set_is_twelve_named_pictures_each_a_wellformed_svg():
    catalogue = pictures.catalogue()
    assert catalogue["length"] == 3
    names = [p["name"] for p in catalogue["pictures"]]
    assert names == ["zon", "maan", "ster", "huis", "boom", "bloem", "vis", "hart", "appel", "bal", "auto", "boot"]
    for p in catalogue["pictures"]:
        root = etree.fromstring(p["svg"].encode())
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("aria-label") == p["label"]
        assert len(root) >= 1


def _pupil(i, method="pincode", name=None):
    return {"key": f"p{i}", "display_name": name or f"Leerling {i:02d}", "login_method": method,
            "pincode": f"{(4000 + i) % 10000:04d}", "pictures": ["zon", "vis", "boot"], "home_emails": []}


def _read(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("count, pages", [(0, 1), (1, 1), (10, 1), (11, 2), (30, 3), (31, 4)])
def test_login_sheet_has_ten_cards_per_page(count, pages):
    n, text = _read(login_sheet.render({"group_name": "Groep 7", "pupils": [_pupil(i) for i in range(count)]},
                                       "De Regenboog"))
    assert n == pages
    assert f"Pagina {pages} van {pages}" in text
    assert text.count("Pincode:") == count
    for i in range(count):
        assert f"Leerling {i:02d}" in text and f"{4000 + i:04d}" in text
    if count == 0:
        assert "Deze groep heeft geen leerlingen." in text


def test_login_sheet_draws_pictures_for_picture_pupils_and_prints_names_beyond_latin1():
    group = {"group_name": "Groep 1/2", "pupils": [_pupil(1, "pictures", "Ayşe Yılmaz"),
                                                   _pupil(2, "pincode", "Łukasz Wójcik")]}
    n, text = _read(login_sheet.render(group, "Basisschool Ĳsselmonde"))
    assert n == 1
    assert "Ayşe Yılmaz" in text and "Łukasz Wójcik" in text
    assert "1. Zon" in text and "2. Vis" in text and "3. Boot" in text
    assert "4001" not in text  # a picture pupil's card shows the pictures, not the pincode
    assert "4002" in text


def test_nameko_run_finds_exactly_the_roster_service_in_its_module():
    from nameko.cli.run import import_service

    assert [cls.name for cls in import_service("services.roster.service")] == ["roster"]
