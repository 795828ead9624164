"""The production settings send mail through the SMTP server the environment names."""

import socketserver
import threading

from tests.prodsettings import manage, prod_env


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to take one message without authentication."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    @staticmethod
    def address(line: bytes) -> str:
        return line.decode().split(":", 1)[1].strip().split(" ")[0]

    def handle(self) -> None:
        self.reply("220 test ESMTP")
        envelope = {"rcpt": []}
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test")
            elif verb == "MAIL":
                envelope["from"] = self.address(line)
                self.reply("250 ok")
            elif verb == "RCPT":
                envelope["rcpt"].append(self.address(line))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data.decode())
                self.server.messages.append({**envelope, "data": "".join(body)})
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


def test_prod_settings_send_through_email_host_and_port(tmp_path):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = prod_env(
            tmp_path,
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(server.server_address[1]),
            DEFAULT_FROM_EMAIL="heatops <alarms@heatops.example>",
        )
        done = manage("sendtestemail", "on-call@heatops.example", env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stdout + done.stderr
    [message] = server.messages
    assert message["from"] == "<alarms@heatops.example>"
    assert message["rcpt"] == ["<on-call@heatops.example>"]
    assert "To: on-call@heatops.example" in message["data"]


def test_prod_settings_refuse_starttls_and_implicit_tls_together(tmp_path):
    done = manage("check", env=prod_env(tmp_path, EMAIL_USE_TLS="1", EMAIL_USE_SSL="1"))
    assert done.returncode != 0
    assert "EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL (implicit TLS), not both" in done.stderr
