"""Keep secrets that cross RPC out of the logs of the calling process.

nameko's RPC client logs every reply body at DEBUG ("RPC reply event complete <reply> <body>",
nameko/rpc.py), so a caller running at DEBUG would log pincodes, picture logins and home-login
addresses answered by the roster service. The filter keeps the line and drops the body.
Installed once, when the `shared` package is first imported (every koppel process does).
"""
from __future__ import annotations

import logging

REPLY_MESSAGE = "RPC reply event complete %s %s"
REDACTED = "<reply body not logged>"


class RpcReplyBodyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == REPLY_MESSAGE and isinstance(record.args, tuple) and len(record.args) == 2:
            record.args = (record.args[0], REDACTED)
        return True


def install() -> None:
    logger = logging.getLogger("nameko.rpc")
    if not any(isinstance(f, RpcReplyBodyFilter) for f in logger.filters):
        logger.addFilter(RpcReplyBodyFilter())
