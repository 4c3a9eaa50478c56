"""The SMTP sink `make run` supervises: `python -m console.stack.smtp_sink --port N --dir D`.

It accepts every message on 127.0.0.1 (no relay, nothing leaves the machine), keeps each one
as an .eml file in D so a person can read the demo emails, and logs one line per message.
"""

import argparse
import email
import email.policy
import itertools
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Keeper:
    """aiosmtpd handler: every message becomes D/<time>-<n>.eml."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self.numbers):04d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        subject = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["subject"]
        print(f"mail to {', '.join(envelope.rcpt_tos)}: {subject}  ({path.name})", flush=True)
        return "250 Message accepted (kept, not relayed)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m console.stack.smtp_sink", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True, help="folder for the .eml files (created if missing)")
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    controller = Controller(Keeper(folder), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"SMTP sink on 127.0.0.1:{args.port}; mail is kept in {folder}", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
