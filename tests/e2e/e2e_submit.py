#!/usr/bin/python3
"""e2e_submit.py HOST PORT FROM TO FILE [--user USER --password PASS] [--cafile CA]:
submit FILE (a whole message) with smtplib: EHLO, STARTTLS when --cafile is given (the
server's certificate checked against CA, its name against HOST is not: HOST is an
address), AUTH PLAIN when --user is given, MAIL FROM/RCPT TO/DATA.

Prints one line, "accepted CODE TEXT" or "refused CODE TEXT" (the server's reply to the
command that failed), and exits 0 (accepted), 4 (a 4xx reply), 5 (a 5xx reply) or
1 (no SMTP answer: connection, TLS or protocol error; the reason is printed)."""
import argparse
import smtplib
import ssl
import sys


def main():
    p = argparse.ArgumentParser(usage=__doc__.split(":", 1)[0])
    p.add_argument("where", nargs=5, metavar="HOST PORT FROM TO FILE")
    p.add_argument("--user")
    p.add_argument("--password", default="")
    p.add_argument("--cafile")
    a = p.parse_args()
    a.host, a.port, a.sender, a.rcpt, path = a.where
    msg = open(path, "rb").read()
    try:
        with smtplib.SMTP(a.host, int(a.port), local_hostname="client.example.org",
                          timeout=60) as s:
            s.ehlo()
            if a.cafile:
                ctx = ssl.create_default_context(cafile=a.cafile)
                ctx.check_hostname = False
                s.starttls(context=ctx)
                s.ehlo()
            if a.user:
                s.login(a.user, a.password)
            for step in (lambda: s.mail(a.sender), lambda: s.rcpt(a.rcpt)):
                code, text = step()
                if code >= 400:
                    raise smtplib.SMTPResponseException(code, text)
            code, text = s.data(msg)
            if code >= 400:
                raise smtplib.SMTPResponseException(code, text)
            print("accepted %d %s" % (code, text.decode(errors="replace")))
            return 0
    except smtplib.SMTPResponseException as e:
        text = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) \
            else str(e.smtp_error)
        print("refused %d %s" % (e.smtp_code, text.replace("\n", " ")))
        return 4 if 400 <= e.smtp_code < 500 else 5 if e.smtp_code >= 500 else 1
    except (OSError, smtplib.SMTPException) as e:
        print("error %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
