import email

from shared import mail, secrets


def test_secret_round_trip_and_ciphertext_hides_it():
    token = secrets.encrypt("0427")
    assert "0427" not in token
    assert secrets.decrypt(token) == "0427"
    assert secrets.hint("ABCDEFGH12345678") == "••••••••5678"
    assert secrets.hint("short") == "••••••••"


def test_mail_without_smtp_is_an_eml_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KOPPEL_MAIL_DIR", str(tmp_path))
    monkeypatch.delenv("SMTP_HOST", raising=False)
    path = mail.send_mail("ouder@example.nl", "Activeer thuislogin", "Klik op de link")
    msg = email.message_from_bytes(open(path, "rb").read())
    assert msg["To"] == "ouder@example.nl" and msg["Subject"] == "Activeer thuislogin"
    assert not msg.is_multipart()
    assert "Klik op de link" in msg.get_payload(decode=True).decode()
