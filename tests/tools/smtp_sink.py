"""SMTP sink for the integration tests (started by smtp_sink.sh).

Listens on 127.0.0.1:PORT with aiosmtpd and writes each received message to DIR/NNNN.json
with the envelope, the decoded subject and the decoded plain-text body. The file appears
(atomically renamed) before the server answers 250, so a sender that saw success finds it.
"""

import email
import email.policy
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(msg.get("From", "")),
            "subject": str(msg.get("Subject", "")),
            "body": body,
        }
        with self.lock:
            self.count += 1
            name = "%04d.json" % self.count
        path = os.path.join(self.folder, name)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        return "250 Message accepted"


def main():
    port = int(sys.argv[1])
    folder = sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
