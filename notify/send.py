"""Sending one message: e-mail over SMTP (STARTTLS, implicit TLS or plain), or a JSON POST.

Each send returns the server's answer as text (``250 2.0.0 Ok: queued as ...``, ``202 Accepted``)
or raises ``DeliveryError`` with one sentence that names the destination without its secrets (no
webhook path or query, no password). Nothing here retries: a message that did not get through
stays due and goes with the next run, and a POST retried blindly could arrive twice.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr

import requests

from licensedesk.errors import redact
from notify.config import EmailChannel, HttpChannel

_BODY_SHOWN = 200


class DeliveryError(Exception):
    """A message did not get through: ``str()`` is one sentence; ``answer`` the server's, if any."""

    def __init__(self, message: str, *, answer: str | None = None) -> None:
        super().__init__(message)
        self.answer = answer


def build_email(
    channel: EmailChannel,
    subject: str,
    text: str,
    *,
    attachment: tuple[str, bytes, str] | None = None,
) -> EmailMessage:
    """A text message from the channel's sender to its recipients, with an optional
    ``(file name, bytes, MIME type)`` attachment."""
    message = EmailMessage()
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(channel.sender)[1].rpartition("@")[2] or None)
    message.set_content(text)
    if attachment is not None:
        name, data, mime = attachment
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"


def send_email(channel: EmailChannel, message: EmailMessage) -> str:
    """Send ``message`` through the channel's SMTP server; the server's answer to the message."""
    where = f"{channel.host}:{channel.port}"
    secrets = (channel.password,)
    try:
        return _smtp(channel, message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"{where} refused the user name {channel.username} or its password ({_reply(exc.smtp_code, exc.smtp_error)}).",
            answer=_reply(exc.smtp_code, exc.smtp_error),
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        first = next(iter(exc.recipients.values()))
        raise DeliveryError(
            f"{where} refused every recipient ({', '.join(exc.recipients)}: {_reply(*first)}).",
            answer=_reply(*first),
        ) from None
    except smtplib.SMTPSenderRefused as exc:
        answer = _reply(exc.smtp_code, exc.smtp_error)
        raise DeliveryError(f"{where} refused the sender {exc.sender} ({answer}).", answer=answer) from None
    except smtplib.SMTPResponseException as exc:
        answer = redact(_reply(exc.smtp_code, exc.smtp_error), *secrets)
        raise DeliveryError(f"{where} refused the message ({answer}).", answer=answer) from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(
            f"{where} does not offer login (AUTH) to this client; check notify.email.security and username."
        ) from None
    except smtplib.SMTPServerDisconnected:
        raise DeliveryError(f"{where} closed the connection before the message was sent.") from None
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"The TLS certificate of {where} is not trusted ({exc.verify_message}); "
            "set notify.ca_bundle to the CA file that signed it."
        ) from None
    except ssl.SSLError as exc:
        raise DeliveryError(
            f"The TLS handshake with {where} failed ({exc.reason}); check notify.email.security and port."
        ) from None
    except TimeoutError:
        raise DeliveryError(f"{where} did not answer within {channel.timeout:g} seconds.") from None
    except ConnectionRefusedError:
        raise DeliveryError(f"Cannot connect to {where} (connection refused).") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"The SMTP exchange with {where} failed ({exc.__class__.__name__}).") from None
    except OSError as exc:
        raise DeliveryError(
            f"Cannot connect to {where} ({exc.strerror or exc.__class__.__name__})."
        ) from None


def _smtp(channel: EmailChannel, message: EmailMessage) -> str:
    context = ssl.create_default_context(cafile=channel.ca_bundle)
    smtp: smtplib.SMTP
    if channel.security == "tls":
        smtp = smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout, context=context)
    else:
        smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout)
    with smtp:
        smtp.ehlo()
        if channel.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise DeliveryError(
                    f"{channel.host}:{channel.port} does not offer STARTTLS; nothing was sent in the clear "
                    "(set notify.email.security to tls or none if that is intended)."
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if channel.username:
            smtp.login(channel.username, channel.password or "")
        # The exchange by hand rather than send_message(), which drops the server's final answer:
        # the answer (queue id) is what the delivery audit records.
        sender = parseaddr(channel.sender)[1]
        code, reply = smtp.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused: dict[str, tuple[int, bytes]] = {}
        for address in channel.to:
            code, reply = smtp.rcpt(parseaddr(address)[1])
            if code not in (250, 251):
                refused[address] = (code, reply)
        if len(refused) == len(channel.to):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused(refused)  # type: ignore[arg-type]
        code, reply = smtp.data(message.as_bytes(policy=SMTP))
        answer = _reply(code, reply)
        if refused:
            answer += f"; refused {', '.join(refused)}"
        return answer


def post_json(channel: HttpChannel, body: bytes, headers: dict[str, str] | None = None) -> str:
    """POST ``body`` (JSON bytes) to the channel's URL; the answer (``202 Accepted``) on a 2xx."""
    where = channel.destination
    secrets = (channel.url, channel.secret)
    try:
        response = requests.post(
            channel.url,
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
            timeout=(min(10.0, channel.timeout), channel.timeout),
            verify=channel.ca_bundle or True,
            allow_redirects=False,
        )
    except requests.exceptions.SSLError:
        raise DeliveryError(
            f"The TLS certificate of {where} is not trusted, or its TLS handshake failed; "
            "set notify.ca_bundle to the CA file that signed it."
        ) from None
    except requests.exceptions.Timeout:
        raise DeliveryError(f"{where} did not answer within {channel.timeout:g} seconds.") from None
    except requests.exceptions.ConnectionError:
        raise DeliveryError(f"Cannot connect to {where} (no server answered).") from None
    except requests.RequestException as exc:
        raise DeliveryError(f"The request to {where} failed ({exc.__class__.__name__}).") from None
    answer = f"{response.status_code} {response.reason or ''}".strip()
    if 200 <= response.status_code < 300:
        return answer
    detail = _error_text(response)
    raise DeliveryError(
        redact(f"{where} answered {answer}" + (f": {detail}" if detail else "") + ".", *secrets),
        answer=answer,
    )


def _error_text(response: requests.Response) -> str:
    """What the server said went wrong, short and on one line (Graph-style error bodies read best)."""
    try:
        data = response.json()
        error = data.get("error") if isinstance(data, dict) else None
        text = str(error.get("message") or error.get("code") or "") if isinstance(error, dict) else ""
    except ValueError:
        text = response.text
    text = " ".join(text.split())
    return text[:_BODY_SHOWN] + ("..." if len(text) > _BODY_SHOWN else "")
