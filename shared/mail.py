"""Outgoing mail: SMTP when `SMTP_HOST` is set, otherwise .eml files under var/mail.

Without SMTP (make run, tests) every mail is written as an .eml file that a person can open in
a mail program, and tests can read back. Returns the file path or the SMTP message id.
"""
from __future__ import annotations

import os
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from shared import config


def mail_dir() -> Path:
    path = Path(os.environ.get("KOPPEL_MAIL_DIR", config.var_dir() / "mail"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def send_mail(to: str, subject: str, text: str, html: str | None = None) -> str:
    msg = EmailMessage()
    msg["From"] = config.setting("MAIL_FROM", "koppel <noreply@koppel.invalid>")
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="koppel.invalid")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    host = os.environ.get("SMTP_HOST")
    if host:
        port = int(os.environ.get("SMTP_PORT", "587"))
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            if os.environ.get("SMTP_STARTTLS", "1") == "1":
                smtp.starttls()
            if os.environ.get("SMTP_USER"):
                smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
            smtp.send_message(msg)
        return msg["Message-ID"]
    path = mail_dir() / f"{uuid.uuid4().hex}.eml"
    path.write_bytes(bytes(msg))
    return str(path)
