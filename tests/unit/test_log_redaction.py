import logging

import shared  # noqa: F401 - installs the filter, as in every koppel process


def test_nameko_rpc_reply_bodies_are_not_logged(caplog):
    caplog.set_level(logging.DEBUG, logger="nameko.rpc")
    log = logging.getLogger("nameko.rpc")
    log.debug("RPC reply event complete %s %s", "<RpcReply>", {"result": {"pincode": "8317"}, "error": None})
    log.debug("Waiting for RPC reply event %s", "<RpcReply>")
    assert [r.getMessage() for r in caplog.records] == [
        "RPC reply event complete <RpcReply> <reply body not logged>", "Waiting for RPC reply event <RpcReply>"]
