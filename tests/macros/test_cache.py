"""The macro cache: one Consonance request per title however many concurrent views, in one
process or many; last good data with its time when Consonance fails."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
import redis

from addon.macros import codec
from addon.macros.cache import (
    CacheWaitTimeout,
    FailoverStore,
    MacroCache,
    MemoryStore,
    RedisStore,
    writes_after_answer,
)
from addon.publishing.domain import Contributor, Format, FormatKind, Price, Stage, Title


class Down(Exception):
    pass


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    url = request.getfixturevalue("redis_url")
    return RedisStore(redis.Redis.from_url(url), prefix=f"test:{time.time_ns()}:")


def sample_title(work_id="w-1") -> Title:
    return Title(
        work_id=work_id,
        title="The Salt Road",
        subtitle="A <b>novel</b>",
        stage=Stage("Editorial"),
        contributors=(Contributor(name="Okafor, Ada", role_code="A01"),),
        formats=(
            Format(
                product_id="p-1",
                kind=FormatKind.HARDBACK,
                isbn13="9780000000002",
                publication_date=date(2027, 3, 4),
                prices=(Price(amount=Decimal("18.99"), currency="GBP"),),
            ),
        ),
    )


def test_codec_round_trips_domain_objects():
    title = sample_title()
    assert codec.loads(codec.dumps(title)) == title
    assert codec.loads(codec.dumps(None)) is None


def test_codec_gives_back_sequences_as_tuples_and_maps_with_any_keys():
    tables = [[["Stage", "Reviewers"], ["Editorial", "Ada"]], []]  # a stage guide page's tables
    assert codec.loads(codec.dumps(tables)) == (((("Stage", "Reviewers"), ("Editorial", "Ada"))), ())
    search = (sample_title("w-1"), sample_title("w-2"))  # a title search's answer
    assert codec.loads(codec.dumps(search)) == search
    mapping = {("a", 1): [Decimal("1.50"), date(2027, 1, 2)], "b": None}
    assert codec.loads(codec.dumps(mapping)) == {("a", 1): (Decimal("1.50"), date(2027, 1, 2)), "b": None}
    with pytest.raises(codec.CodecError, match="cannot encode"):
        codec.dumps({"handle": object()})


@pytest.mark.parametrize(
    "poisoned",
    [
        b'{"@": "Popen", "args": ["rm"]}',
        b'{"@": ["Title"]}',  # a tag that is not a name
        b'{"@": "Title", "no_such_field": 1}',
        b'{"@enum": "Title", "v": 1}',  # a class where an enum is meant
        b'{"@enum": "FormatKind", "v": "no such kind"}',
        b'{"plain": "object"}',  # untagged
        b'{"@dec": "not a number"}',
        b"not json",
    ],
)
def test_codec_refuses_anything_but_domain_objects(poisoned):
    with pytest.raises(codec.CodecError):
        codec.loads(poisoned)


def test_fifty_concurrent_first_views_make_one_request(store):
    calls = []

    def loader():
        calls.append(1)
        time.sleep(0.3)
        return sample_title()

    cache = MacroCache(store)
    results, barrier = [], threading.Barrier(50)

    def view():
        barrier.wait()
        results.append(cache.fetch("t1:w-1", loader, freshness_seconds=300))

    threads = [threading.Thread(target=view) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len(results) == 50 and all(r.value == sample_title() and r.fresh for r in results)
    assert sum(r.fetched_here for r in results) == 1


def test_fresh_answers_come_from_the_cache(store):
    cache, calls = MacroCache(store), []
    cache.fetch("k", lambda: calls.append(1) or "v", 300)
    assert cache.fetch("k", lambda: calls.append(1) or "v2", 300).value == "v"
    assert len(calls) == 1


def test_consonance_down_serves_last_good_data_with_its_time(store):
    now = [1000.0]
    cache = MacroCache(store, clock=lambda: now[0])
    cache.fetch("k", sample_title, 300)
    now[0] += 600

    def failing():
        raise Down("Consonance is not answering")

    lookup = cache.fetch("k", failing, 300)
    assert lookup.value == sample_title() and not lookup.fresh
    assert lookup.fetched_at == 1000.0 and lookup.error == "Consonance is not answering"


def test_nothing_cached_and_consonance_down_raises(store):
    def failing():
        raise Down("down")

    with pytest.raises(Down):
        MacroCache(store).fetch("k", failing, 300)


def test_stale_entry_is_served_at_once_while_another_request_refreshes(store):
    now = [1000.0]
    cache = MacroCache(store, clock=lambda: now[0])
    cache.fetch("k", lambda: "old", 300)
    now[0] += 600
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(5)
        return "new"

    worker = threading.Thread(target=lambda: cache.fetch("k", slow, 300))
    worker.start()
    started.wait(5)
    lookup = cache.fetch("k", lambda: pytest.fail("second fetch"), 300)
    assert (lookup.value, lookup.fresh, lookup.refreshing) == ("old", False, True)
    release.set()
    worker.join()
    assert cache.fetch("k", lambda: "never", 300).value == "new"


def test_forced_refresh_asks_again(store):
    cache = MacroCache(store)
    cache.fetch("k", lambda: "v1", 300)
    assert cache.fetch("k", lambda: "v2", 300, force=True).value == "v2"


def test_waiters_give_up_after_the_timeout(store):
    cache = MacroCache(store, wait_timeout=0.2)
    token = store.lock("k", 30)
    try:
        with pytest.raises(CacheWaitTimeout):
            cache.fetch("k", lambda: "v", 300)
    finally:
        store.unlock("k", token)


def _process_views(url, prefix, counter_key, n_threads, start_at):
    client = redis.Redis.from_url(url)
    cache = MacroCache(RedisStore(client, prefix=prefix))

    def loader():
        client.incr(counter_key)
        time.sleep(0.3)
        return sample_title()

    def view():
        assert cache.fetch("t1:w-9", loader, 300).value.title == "The Salt Road"

    while time.time() < start_at:
        time.sleep(0.001)
    threads = [threading.Thread(target=view) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_single_flight_across_processes(redis_url):
    """Four processes × 12 threads open the same uncached title: Consonance is asked once."""
    prefix, counter = f"test:{time.time_ns()}:", f"test:count:{time.time_ns()}"
    context = multiprocessing.get_context("fork")
    start_at = time.time() + 0.5
    processes = [
        context.Process(target=_process_views, args=(redis_url, prefix, counter, 12, start_at)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(20)
    assert all(p.exitcode == 0 for p in processes)
    assert int(redis.Redis.from_url(redis_url).get(counter)) == 1


def test_a_failed_refresh_marks_the_entry_until_a_good_answer_replaces_it(store):
    now = [1000.0]
    cache = MacroCache(store, clock=lambda: now[0])
    cache.fetch("k", sample_title, 300)

    def failing():
        raise Down("503")

    now[0] += 5
    assert cache.fetch("k", failing, 300, force=True).error == "503"
    calls = []
    marked = cache.fetch("k", lambda: calls.append(1), 300)  # inside the window: no new request
    assert (marked.error, marked.fresh, marked.fetched_at, calls) == ("503", False, 1000.0, [])
    now[0] += 10
    fixed = cache.fetch("k", sample_title, 300, force=True)
    assert fixed.error is None and fixed.fetched_at == 1015.0
    assert cache.fetch("k", failing, 300).error is None


def test_after_a_failed_refresh_consonance_is_tried_again_after_a_short_pause(store):
    from addon.macros.cache import ERROR_RETRY_SECONDS

    now = [1000.0]
    cache = MacroCache(store, clock=lambda: now[0])
    cache.fetch("k", sample_title, 300)
    now[0] += 5

    def failing():
        raise Down("503")

    cache.fetch("k", failing, 300, force=True)
    now[0] += ERROR_RETRY_SECONDS + 1
    recovered = cache.fetch("k", lambda: sample_title("w-2"), 300)  # still inside the freshness window
    assert recovered.error is None and recovered.value.work_id == "w-2"


class Unreachable:
    """A shared store whose server is down: every call fails as redis-py fails."""

    def __getattr__(self, name):
        def fail(*args):
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

        return fail


def test_a_shared_store_outage_keeps_views_cached_and_single_flight_in_the_process(caplog):
    store = FailoverStore(Unreachable(), errors=(redis.RedisError,))
    cache = MacroCache(store, wait_timeout=5)
    calls = []

    def load():
        calls.append(1)
        time.sleep(0.05)
        return sample_title()

    threads = [threading.Thread(target=cache.fetch, args=("t1:title:work:1", load, 300)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert cache.fetch("t1:title:work:1", load, 300).value.title == "The Salt Road" and len(calls) == 1
    warnings = [r for r in caplog.records if "shared macro cache unreachable" in r.getMessage()]
    assert len(warnings) == 1  # said once, not per call


def test_the_shared_store_is_used_again_as_soon_as_it_answers(redis_url):
    shared = RedisStore(redis.Redis.from_url(redis_url), prefix=f"test:{time.time_ns()}:")

    class Flaky:
        down = True

        def __getattr__(self, name):
            if Flaky.down:
                raise redis.ConnectionError("down")
            return getattr(shared, name)

    store = FailoverStore(Flaky(), errors=(redis.RedisError,))
    store.set("k", b"during the outage", 60)
    assert shared.get("k") is None and store.get("k") == b"during the outage"
    Flaky.down = False
    store.set("k", b"shared again", 60)
    assert shared.get("k") == b"shared again" and store.get("k") == b"shared again"


class Recorder:
    """A rider that sends one command on each trip and keeps what came back."""

    def __init__(self, lookup_command: tuple, write_command: tuple | None = None):
        self.lookup_command, self.write_command = lookup_command, write_command
        self.locks: list[tuple[str, str]] = []
        self.answers: dict[str, list] = {}

    def on_lookup(self, pipe, lock):
        self.locks.append(lock)
        pipe.execute_command(*self.lookup_command)
        return 1

    def looked_up(self, answers):
        self.answers["lookup"] = answers

    def on_write(self, pipe):
        if self.write_command is None:
            return 0
        pipe.execute_command(*self.write_command)
        return 1

    def written(self, answers):
        self.answers["write"] = answers


def test_riders_go_in_the_cache_trips_and_each_gets_its_own_answers(redis_url):
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:{time.time_ns()}:"
    client.set(prefix + "other", b"beside")
    client.set(prefix + "text", b"not a number")
    cache = MacroCache(RedisStore(client, prefix=prefix))
    reader = Recorder(("GET", prefix + "other"), ("INCR", prefix + "counter"))
    broken = Recorder(("INCR", prefix + "text"))  # an error in a rider's command is that rider's alone
    lookup = cache.fetch("k", lambda: "fetched", freshness_seconds=300, riders=[reader, broken])
    assert lookup.value == "fetched" and lookup.fetched_here
    assert reader.answers == {"lookup": [b"beside"], "write": [1]}
    assert isinstance(broken.answers["lookup"][0], redis.ResponseError) and "write" not in broken.answers
    assert reader.locks == [(prefix + "lock:k", reader.locks[0][1])]  # the lock the same trip took
    assert client.get(prefix + "lock:k") is None  # and the write freed it
    assert cache.fetch("k", lambda: "unused", freshness_seconds=300, riders=[reader]).value == "fetched"


def test_a_store_in_memory_carries_no_riders():
    rider = Recorder(("GET", "anything"), ("GET", "anything"))
    cache = MacroCache(MemoryStore())
    assert cache.fetch("k", lambda: "fetched", freshness_seconds=300, riders=[rider]).value == "fetched"
    assert rider.answers == {} and rider.locks == []


def test_inside_writes_after_answer_a_first_view_writes_when_told_and_holds_the_lock_till_then(redis_url):
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:{time.time_ns()}:"
    cache = MacroCache(RedisStore(client, prefix=prefix))
    rider = Recorder(("GET", prefix + "nothing"), ("INCR", prefix + "counter"))
    other_process = MacroCache(RedisStore(redis.Redis.from_url(redis_url), prefix=prefix))
    with writes_after_answer() as after:
        lookup = cache.fetch("k", lambda: "fetched", freshness_seconds=300, riders=[rider])
    assert lookup.value == "fetched" and lookup.fetched_here and after
    assert client.get(prefix + "k") is None and "write" not in rider.answers  # nothing written yet
    assert other_process.store.get_or_lock("k", 30) == (None, None)  # and the lock still held: others wait
    after()
    assert rider.answers["write"] == [1] and client.get(prefix + "lock:k") is None
    assert other_process.fetch("k", lambda: "asked again", freshness_seconds=300).value == "fetched"
    assert not after


def test_a_view_waiting_on_a_fetch_gets_the_answer_written_after_the_fetchers_answer(redis_url):
    prefix = f"test:{time.time_ns()}:"
    cache = MacroCache(RedisStore(redis.Redis.from_url(redis_url), prefix=prefix), poll_interval=0.005)
    other_process = MacroCache(RedisStore(redis.Redis.from_url(redis_url), prefix=prefix), poll_interval=0.005)
    waited: list = []
    with writes_after_answer() as after:
        cache.fetch("k", lambda: "fetched", freshness_seconds=300)
    waiter = threading.Thread(
        target=lambda: waited.append(other_process.fetch("k", lambda: "asked again", freshness_seconds=300))
    )
    waiter.start()
    time.sleep(0.05)
    assert not waited  # waiting for the write, not asking Consonance a second time
    after()
    waiter.join(5)
    assert waited[0].value == "fetched"


def test_a_view_that_looks_again_writes_first_instead_of_waiting_for_itself(redis_url):
    prefix = f"test:{time.time_ns()}:"
    cache = MacroCache(RedisStore(redis.Redis.from_url(redis_url), prefix=prefix), wait_timeout=2)
    asked = []
    with writes_after_answer() as after:
        cache.fetch("k", lambda: asked.append(1) or "fetched", freshness_seconds=300)
        started = time.monotonic()
        assert cache.fetch("k", lambda: asked.append(2) or "again", freshness_seconds=300).value == "fetched"
        assert time.monotonic() - started < 1 and asked == [1] and not after


def test_a_write_after_the_answer_that_fails_is_logged_and_frees_the_lock(redis_url, caplog, monkeypatch):
    client = redis.Redis.from_url(redis_url)
    prefix = f"test:{time.time_ns()}:"
    cache = MacroCache(RedisStore(client, prefix=prefix))
    with writes_after_answer() as after:
        assert cache.fetch("k", lambda: "fetched", freshness_seconds=300).value == "fetched"
    assert client.get(prefix + "lock:k") is not None

    def refused(*args, **kwargs):
        raise redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'")

    monkeypatch.setattr(cache.store, "_set_unlock_announce", refused)
    after()  # the server's call: nothing raised into it
    assert "write after its answer failed" in caplog.text and "OOM" in caplog.text
    assert client.get(prefix + "lock:k") is None and client.get(prefix + "k") is None
    assert len(client.connection_pool._in_use_connections) == 0


def test_in_memory_a_lookup_and_its_lock_are_one_step(monkeypatch):
    """A view that finds nothing while another fetches must wait for that fetch, even if the fetcher writes and
    frees the lock between the view's look and its lock (it took a second Consonance request before)."""
    store = MemoryStore()
    fetcher = store.lock("k", 30)
    read = store._get_held

    def fetcher_finishes_meanwhile(key):
        found = read(key)
        finishing = threading.Thread(target=store.set_and_unlock, args=("k", b"answer", 60, fetcher))
        finishing.start()
        finishing.join(0.05)  # it cannot get in until the lookup is done
        return found

    monkeypatch.setattr(store, "_get_held", fetcher_finishes_meanwhile)
    assert store.get_or_lock("k", 30) == (None, None)  # not the lock: the fetcher still held it when looked at
    monkeypatch.undo()
    deadline = time.monotonic() + 2
    while store.get("k") is None:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    assert store.get_or_lock("k", 30) == (None, b"answer")


def test_with_redis_unreachable_a_first_view_with_riders_is_answered_and_they_ride_nowhere():
    dead = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)  # nothing listens on port 9
    cache = MacroCache(FailoverStore(RedisStore(dead, prefix="test:"), errors=(redis.RedisError,)))
    rider = Recorder(("GET", "x"), ("GET", "x"))
    with writes_after_answer() as after:
        lookup = cache.fetch("k", lambda: "fetched", freshness_seconds=300, riders=[rider])
    after()
    assert lookup.value == "fetched" and lookup.fetched_here
    assert rider.answers == {}  # each rider then does alone what it owes (the budget counts in-process)
    assert cache.fetch("k", lambda: "unused", freshness_seconds=300).value == "fetched"  # kept in this process
