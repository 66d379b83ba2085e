"""The gateway's RPC replies survive a request served while the gateway is starting."""

import pytest
from eventlet.event import Event

from gateway.rpc import DeclaredReplyListener
from gateway.service import GatewayService

pytestmark = pytest.mark.broker


def test_a_call_registered_before_the_reply_consumer_connects_is_not_lost(
        container_factory, motcua_settings):
    container = container_factory(GatewayService)
    (listener,) = [e for e in container.subextensions if isinstance(e, DeclaredReplyListener)]
    listener.setup()  # set up, not started: the moment a first request can slip in

    listener.pending["call-registered-early"] = Event()

    # What the reply consumer does on its first connection: with nameko's own listener
    # the queue would not exist yet and this raised ReplyQueueExpiredWithPendingReplies.
    listener.check_for_lost_replies()
