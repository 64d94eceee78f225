"""The recommender's Redis client: one connection pool per process and URL, and a forked
child (Celery prefork, the bench's multiprocessing) never writes on its parent's sockets."""

import os

from recommender.publish import client


def test_one_client_per_url_and_reply_type(settings):
    text = client()
    assert client() is text and client().connection_pool is text.connection_pool
    raw = client(decode=False)
    assert raw is not text and client(decode=False) is raw
    text.set("test-client-probe", "1", ex=60)
    assert text.get("test-client-probe") == "1" and raw.get("test-client-probe") == b"1"
    working = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: a pool of its own
    elsewhere = client()
    settings.REDIS_URL = working
    assert elsewhere is not text and elsewhere.connection_pool.connection_kwargs["port"] == 1
    assert client() is text
    text.delete("test-client-probe")


def test_a_forked_child_makes_its_own_pool_and_the_parent_keeps_working():
    parent = client()
    parent.ping()  # the parent holds a connection when the child is forked
    parent_socket = parent.connection_pool._available_connections[0]._sock.fileno()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's exit handlers
        try:
            own = client()
            own.set("test-fork-probe", str(os.getpid()), ex=60)
            own_socket = own.connection_pool._available_connections[0]._sock.fileno()
            os.write(write, f"{own is not parent} {own_socket != parent_socket}".encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    report = os.read(read, 100).decode()
    os.close(read)
    assert status == 0 and report == "True True"
    assert client() is parent and parent.get("test-fork-probe") == str(pid)
    parent.delete("test-fork-probe")
