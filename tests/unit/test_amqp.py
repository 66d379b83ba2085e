"""motcua.amqp: an ack, a requeue or an RPC reply on a dead connection kills nothing."""

import errno
import inspect
from types import SimpleNamespace
from unittest import mock

import amqp.exceptions
import pytest
from nameko.amqp.consume import Consumer
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc

from gateway.rpc import SafeReplyConsumer
from motcua.amqp import ResilientRpc, ResilientRpcConsumer, SafeConsumer
from motcua.cli import GATEWAY_CLASS, SERVICE_CLASSES, service_class

DEAD = [ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        ConnectionRefusedError(errno.ECONNREFUSED, "ECONNREFUSED"),
        amqp.exceptions.RecoverableConnectionError("connection already closed")]


def message_failing_with(error):
    message = mock.Mock(channel=SimpleNamespace(connection=object()),
                        delivery_info={"routing_key": "intake.submit_dossier"},
                        properties={"content_type": "application/json",
                                    "reply_to": "reply", "correlation_id": "c-1"})
    message.ack.side_effect = error
    message.requeue.side_effect = error
    return message


@pytest.mark.parametrize("error", DEAD, ids=type)
def test_nameko_alone_lets_a_reset_connection_escape_from_an_ack(error):
    """The trap (NAMEKO.md 11): this exception leaves the worker and kills the container."""
    consumer = Consumer("memory://")
    if isinstance(error, amqp.exceptions.ConnectionError):
        consumer.ack_message(message_failing_with(error))  # nameko catches only these
    else:
        with pytest.raises(OSError):
            consumer.ack_message(message_failing_with(error))


@pytest.mark.parametrize("consumer_cls", [SafeConsumer, SafeReplyConsumer])
@pytest.mark.parametrize("error", DEAD, ids=type)
def test_an_ack_or_requeue_on_a_dead_connection_is_left_to_the_broker(consumer_cls, error,
                                                                      caplog):
    args = (lambda: None,) if consumer_cls is SafeReplyConsumer else ()
    consumer = consumer_cls(*args, "memory://")
    message = message_failing_with(error)

    consumer.ack_message(message)
    consumer.requeue_message(message)

    assert message.ack.called and message.requeue.called
    if isinstance(error, OSError):  # amqp's own errors nameko already drops silently
        assert "the broker will redeliver it" in caplog.text


def test_a_reply_that_cannot_be_published_sends_the_request_back_to_the_queue(caplog):
    rpc_consumer = ResilientRpcConsumer()
    rpc_consumer.consumer = mock.Mock()
    message = message_failing_with(None)
    with mock.patch("nameko.rpc.Responder.send_response",
                    side_effect=ConnectionRefusedError(errno.ECONNREFUSED, "ECONNREFUSED")), \
            mock.patch("nameko.rpc.config", {"AMQP_URI": "memory://"}):
        result, exc_info = rpc_consumer.handle_result(message, {"code": "X"}, None)

    assert result == {"code": "X"} and exc_info is None
    rpc_consumer.consumer.requeue_message.assert_called_once_with(message)
    rpc_consumer.consumer.ack_message.assert_not_called()
    assert "answered from its recorded result" in caplog.text


def test_every_rpc_of_every_process_is_the_resilient_one():
    """One nameko @rpc left in a service would bring the trap back for that service."""
    found = []
    for path in [*SERVICE_CLASSES.values(), GATEWAY_CLASS]:
        cls = service_class(path)
        for name, method in inspect.getmembers(cls, callable):
            for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(entrypoint, Rpc):
                    found.append((cls.name, name, type(entrypoint)))
    assert found, "no RPC entrypoint found"
    assert {kind for _, _, kind in found} == {ResilientRpc}, [
        f for f in found if f[2] is not ResilientRpc]


def test_a_lost_reply_queue_answers_the_waiting_calls_instead_of_killing_the_gateway():
    from eventlet.event import Event
    from nameko.exceptions import ReplyQueueExpiredWithPendingReplies

    from gateway.rpc import DeclaredReplyListener
    from motcua.errors import Unavailable

    listener = DeclaredReplyListener()
    waiting = Event()
    listener.pending = {"c-1": waiting}
    with mock.patch("nameko.rpc.ReplyListener.check_for_lost_replies",
                    side_effect=ReplyQueueExpiredWithPendingReplies("lost")):
        listener.check_for_lost_replies()  # does not raise

    assert listener.pending == {}
    with pytest.raises(Unavailable):
        waiting.wait()
