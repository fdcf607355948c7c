"""The request budget per tenant, shared through a real Redis by every "process" (separate budget objects
and HTTP sessions here), and its in-process fallback: the minute's budget, the concurrency cap, and a 429's
pause honoured by everyone."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
import redis

from addon.consonance.budget import BudgetExhausted, PlaceAhead, RequestBudget
from addon.consonance.errors import ConsonanceUnavailable
from addon.consonance.transport import ConsonanceConnection, GraphQLTransport, TransportOptions


def _two_processes(redis_url, **limits):
    return [RequestBudget("tenant-1", redis=redis.Redis.from_url(redis_url), **limits) for _ in range(2)]


def test_the_minute_budget_is_one_count_for_every_process(redis_url):
    first, second = _two_processes(redis_url, per_minute=3, concurrency=10)
    for budget in (first, second, first):
        budget.give_back(budget.take(0))
    with pytest.raises(BudgetExhausted, match="budget of 3 requests a minute is used"):
        second.take(0)
    usage = first.usage()
    assert (usage.used_this_minute, usage.per_minute, usage.shared) == (3, 3, True)
    other_tenant = RequestBudget("tenant-2", 3, 10, redis.Redis.from_url(redis_url))
    other_tenant.give_back(other_tenant.take(0))  # each tenant has its own


def test_at_most_the_cap_in_flight_across_processes(redis_url):
    first, second = _two_processes(redis_url, per_minute=100, concurrency=2)
    held = [first.take(0), second.take(0)]
    with pytest.raises(BudgetExhausted, match="2 requests are already in flight"):
        first.take(0.1)
    assert second.usage().in_flight == 2
    first.give_back(held[0])
    second.give_back(second.take(0.1))
    assert first.usage().used_this_minute == 3  # refused places are not counted


def test_waiters_in_a_process_are_served_in_the_order_they_came(redis_url):
    """A place given back goes to the longest waiter, not to whoever polls first: no request starves."""
    budget = RequestBudget("tenant-1", per_minute=1000, concurrency=1, redis=redis.Redis.from_url(redis_url))
    held = budget.take(0)
    served: list[int] = []
    lock = threading.Lock()

    def wait_then_hold(number: int) -> None:
        token = budget.take(10)
        with lock:
            served.append(number)
        time.sleep(0.01)
        budget.give_back(token)

    waiters = []
    for number in range(6):
        waiters.append(threading.Thread(target=wait_then_hold, args=(number,)))
        waiters[-1].start()
        time.sleep(0.03)  # each one arrives after the one before is queued
    started = time.monotonic()
    budget.give_back(held)
    for waiter in waiters:
        waiter.join(15)
    assert served == list(range(6))
    assert time.monotonic() - started < 2.0  # handed on as each is given back, not at some later poll


def test_a_429_pause_holds_every_process(redis_url):
    first, second = _two_processes(redis_url, per_minute=100, concurrency=5)
    first.pause(0.6)
    with pytest.raises(BudgetExhausted, match="slow down"):
        second.take(0.1)
    started = time.monotonic()
    second.give_back(second.take(2.0))
    assert time.monotonic() - started >= 0.4
    first.pause(30)
    second.resume()  # an admin's Retry: try now
    first.give_back(first.take(0))


def test_a_request_queued_behind_a_pause_says_it_is_the_pause(redis_url):
    """Behind the longest waiter, a request that gives up names what that waiter waits for."""
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=5, redis=redis.Redis.from_url(redis_url))
    budget.pause(1)
    taken: list[str] = []
    head = threading.Thread(target=lambda: taken.append(budget.take(5)))  # waits out the pause
    head.start()
    time.sleep(0.2)
    with pytest.raises(BudgetExhausted, match="slow down"):
        budget.take(0.2)  # gives up while still queued behind the head
    head.join(5)
    assert len(taken) == 1
    budget.give_back(taken[0])


def test_without_redis_the_budget_counts_in_process():
    budget = RequestBudget("tenant-1", per_minute=2, concurrency=1)
    token = budget.take(0)
    with pytest.raises(BudgetExhausted):
        budget.take(0)  # the one slot is held
    budget.give_back(token)
    budget.give_back(budget.take(0))
    with pytest.raises(BudgetExhausted):
        budget.take(0)  # two this minute
    assert budget.usage().shared is False and budget.usage().used_this_minute == 2


def test_a_429_seen_by_one_process_keeps_the_other_from_asking(redis_url, fresh_sandbox):
    """Two transports (two processes' sessions) share the tenant's budget: after one meets a 429 with
    Retry-After, the other sends nothing to Consonance until the pause ends."""
    fresh_sandbox.control.add_fault(operation="CatalogueSize", rateLimitCount=1, retryAfter=1)
    first, second = _two_processes(redis_url, per_minute=100, concurrency=4)
    connection = ConsonanceConnection(fresh_sandbox.url, fresh_sandbox.api_key)
    options = TransportOptions(max_attempts=3, max_total_seconds=10, backoff_base=0.05)
    one = GraphQLTransport(connection, options, budget=first)
    other = GraphQLTransport(connection, options, budget=second)
    query = "query CatalogueSize { worksCount }"
    answered = {}

    def first_caller():
        answered["one"] = one.execute(query, operation_name="CatalogueSize")

    thread = threading.Thread(target=first_caller)
    thread.start()
    time.sleep(0.3)  # the 429 has been answered and the pause set
    sent_before = fresh_sandbox.control.counters()["total"]
    started = time.monotonic()
    answered["other"] = other.execute("query Other { worksCount }", operation_name="Other")
    waited = time.monotonic() - started
    thread.join()
    assert answered["one"]["worksCount"] == answered["other"]["worksCount"]
    assert waited >= 0.5  # held back until the Retry-After ended
    log = fresh_sandbox.control.requests()
    assert [r["status"] for r in log if r["operationName"] == "CatalogueSize"] == [429, 200]
    assert sent_before == 1  # nothing else reached Consonance during the pause


def test_a_budget_that_never_frees_fails_clearly(fresh_sandbox):
    budget = RequestBudget("tenant-1", per_minute=1, concurrency=1)
    budget.take(0)  # the minute's only request, never given back
    transport = GraphQLTransport(
        ConsonanceConnection(fresh_sandbox.url, fresh_sandbox.api_key),
        TransportOptions(max_attempts=2, max_total_seconds=0.3),
        budget=budget,
    )
    with pytest.raises(ConsonanceUnavailable, match="was not asked for CatalogueSize: waited for the request budget"):
        transport.execute("query CatalogueSize { worksCount }", operation_name="CatalogueSize")
    assert fresh_sandbox.control.counters()["total"] == 0


# --- a place taken in another module's round trip (the macro cache's lookup) ---------------------------------


def _lookup_trip(client, budget, place, lock_key: str, lock_token: str, take_lock: bool):
    """What the macro cache's lookup trip does: try its lock, and carry the place with it, in one pipeline."""
    with client.pipeline(transaction=False) as pipe:
        if take_lock:
            pipe.set(lock_key, lock_token, nx=True, px=30_000)
        else:
            pipe.get(lock_key)
        count = place.on_lookup(pipe, (lock_key, lock_token))
        answers = pipe.execute(raise_on_error=False)
    place.looked_up(answers[1 : 1 + count])


def _in_flight(budget) -> int:
    return budget.usage().in_flight


def test_a_place_ahead_is_taken_only_when_the_same_trip_takes_the_lock(redis_url):
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=4, redis=client)
    client.set("test:lock:held-elsewhere", "someone-else")
    refused = PlaceAhead(budget)
    _lookup_trip(client, budget, refused, "test:lock:held-elsewhere", "mine", take_lock=False)
    assert (_in_flight(budget), budget.usage().used_this_minute) == (0, 0)  # nothing asked, nothing counted
    with refused.in_use():
        token = budget.take(0)
    assert token != refused.token  # the request took its own place, as any other does
    budget.give_back(token)

    place = PlaceAhead(budget)
    _lookup_trip(client, budget, place, "test:lock:free", "mine", take_lock=True)
    assert (_in_flight(budget), budget.usage().used_this_minute) == (1, 2)
    place.finish()
    assert _in_flight(budget) == 0


def test_the_request_uses_the_place_once_and_it_goes_back_with_the_next_trip(redis_url):
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=4, redis=client)
    place = PlaceAhead(budget)
    _lookup_trip(client, budget, place, "test:lock:a", "mine", take_lock=True)
    with place.in_use():
        first = budget.take(0)
        budget.give_back(first)
        assert first == place.token and _in_flight(budget) == 1  # owed to the next trip, not sent alone
        retry = budget.take(0)  # a retry takes a place of its own, and gives it back itself
        assert retry != first and _in_flight(budget) == 2
        budget.give_back(retry)
    assert _in_flight(budget) == 1
    with client.pipeline(transaction=False) as pipe:
        pipe.set("test:entry", b"written")
        count = place.on_write(pipe)
        answers = pipe.execute()
    place.written(answers[1 : 1 + count])
    assert count == 1 and _in_flight(budget) == 0
    place.finish()  # nothing left to give back
    assert budget.usage().used_this_minute == 2


def test_a_place_ahead_goes_back_when_the_view_ends_without_a_write(redis_url):
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=1, redis=client)
    place = PlaceAhead(budget)
    _lookup_trip(client, budget, place, "test:lock:b", "mine", take_lock=True)
    with pytest.raises(BudgetExhausted):  # the only slot is this view's, taken ahead and not yet used
        budget.take(0)
    place.finish()  # e.g. Consonance was not configured after all: no request, no write
    budget.give_back(budget.take(0))


def test_a_full_budget_refuses_the_place_ahead_and_the_request_waits_as_any_other(redis_url):
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=1, redis=client)
    held = RequestBudget("tenant-1", per_minute=100, concurrency=1, redis=client).take(0)  # another process's
    place = PlaceAhead(budget)
    _lookup_trip(client, budget, place, "test:lock:c", "mine", take_lock=True)
    assert budget.usage().used_this_minute == 1  # the refused place is not counted
    with place.in_use(), pytest.raises(BudgetExhausted, match="1 requests are already in flight"):
        budget.take(0.05)
    budget.give_back(held)
    place.finish()
    assert _in_flight(budget) == 0


def test_a_give_back_on_its_way_is_not_sent_twice_and_a_lost_one_is_sent_alone(redis_url):
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=4, redis=client)
    sent_alone = []
    give = budget._give
    budget._give = lambda **kwargs: sent_alone.append(kwargs) or give(**kwargs)
    for trip_answer in ("answered", "lost"):
        place = PlaceAhead(budget)
        _lookup_trip(client, budget, place, f"test:lock:{trip_answer}", "mine", take_lock=True)
        with place.in_use():
            budget.give_back(budget.take(0))
        with client.pipeline(transaction=False) as pipe:
            assert place.on_write(pipe) == 1
            commands = pipe.command_stack[:]
        place.finish()  # the view ends before the write's answer is read: the give-back is on its way
        assert sent_alone == []
        if trip_answer == "answered":
            client.execute_command(*commands[0][0])  # what the trip carried, answered
            place.written([1])
            assert sent_alone == []
        else:
            place.written([redis.ConnectionError("lost")])
            assert len(sent_alone) == 1  # given back alone
            sent_alone.clear()
        assert _in_flight(budget) == 0


class CountedEvent(threading.Event):
    """A waiter's event that counts the times its sleep ended early (something woke it)."""

    woken: list[int] = []

    def wait(self, timeout=None):
        woken = super().wait(timeout)
        if woken:
            CountedEvent.woken.append(id(self))
        return woken


def test_a_place_given_back_wakes_the_longest_waiter_only(redis_url, monkeypatch):
    """Five requests wait behind one held place: each give-back wakes the one whose turn it is, and the rest
    sleep on. Waking them all on every give-back cost a burst of first views more CPU than their requests."""
    # the budget's own events only (threads and libraries keep theirs)
    monkeypatch.setattr(
        "addon.consonance.budget.threading", SimpleNamespace(**{**vars(threading), "Event": CountedEvent})
    )
    CountedEvent.woken = []
    budget = RequestBudget("tenant-1", per_minute=1000, concurrency=1, redis=redis.Redis.from_url(redis_url))
    held = budget.take(0)
    served: list[str] = []
    waiters = []
    for _ in range(5):
        waiters.append(threading.Thread(target=lambda: served.append(budget.take(5))))
        waiters[-1].start()
        deadline = time.monotonic() + 2
        while budget.waiting() < len(waiters):
            assert time.monotonic() < deadline
            time.sleep(0.005)
    budget.give_back(held)
    for n in range(5):  # each served request gives its place back, and the next waiter is served
        deadline = time.monotonic() + 2
        while len(served) < n + 1:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        budget.give_back(served[n])
    for waiter in waiters:
        waiter.join(5)
    # each waiter is woken when the one ahead leaves and when a place comes back: never by the whole queue's
    # comings and goings (the last of five was woken nine times when every change woke everyone)
    assert len(CountedEvent.woken) >= 5
    assert max(CountedEvent.woken.count(event) for event in set(CountedEvent.woken)) <= 2


def _queued_waiter(budget, served: list[str]) -> threading.Thread:
    """A request in another thread of this process, started and waiting in the budget's queue; the token it
    gets goes to `served`."""
    waiter = threading.Thread(target=lambda: served.append(budget.take(5)))
    waiter.start()
    deadline = time.monotonic() + 2
    while not budget.waiting():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    return waiter


def test_a_place_ahead_does_not_overtake_requests_waiting_in_the_process(redis_url):
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=1, redis=client)
    elsewhere = RequestBudget("tenant-1", per_minute=100, concurrency=1, redis=client)
    held = elsewhere.take(0)
    served: list[str] = []
    waiter = _queued_waiter(budget, served)
    place = PlaceAhead(budget)
    with client.pipeline(transaction=False) as pipe:
        assert place.on_lookup(pipe, ("test:lock:d", "mine")) == 0  # it waits its turn like any other request
    elsewhere.give_back(held)
    waiter.join(5)
    assert served and _in_flight(budget) == 1  # the waiter got the freed place
    budget.give_back(served[0])


def test_a_place_ahead_goes_back_at_once_when_a_request_here_waits_for_one(redis_url):
    """Under a burst, a place taken ahead is not held through the view's rendering and answer until its cache
    write: a request waiting in the process gets it as soon as the request that used it is done."""
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=1, redis=client)
    place = PlaceAhead(budget)
    _lookup_trip(client, budget, place, "test:lock:e", "mine", take_lock=True)
    served: list[str] = []
    with place.in_use():
        token = budget.take(0)
        waiter = _queued_waiter(budget, served)
        budget.give_back(token)
        waiter.join(5)
    assert served and _in_flight(budget) == 1  # the waiter's place, taken before any write trip
    with client.pipeline(transaction=False) as pipe:
        assert place.on_write(pipe) == 0  # nothing left for the write trip to give back
    place.finish()
    budget.give_back(served[0])
    assert _in_flight(budget) == 0


def test_a_long_wait_for_a_place_is_logged_with_the_site(monkeypatch, caplog):
    """A view that was slow because the site's budget was full says so in the log, not only in its latency."""
    monkeypatch.setattr("addon.consonance.budget.SLOW_WAIT_SECONDS", 0.05)
    budget = RequestBudget("tenant-7", per_minute=10, concurrency=1)
    held = budget.take(0)
    threading.Timer(0.1, budget.give_back, args=(held,)).start()
    with caplog.at_level("WARNING", logger="addon.consonance.budget"):
        budget.give_back(budget.take(2.0))
    assert any("in tenant-7's request budget" in r.getMessage() for r in caplog.records), caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="addon.consonance.budget"):
        budget.give_back(budget.take(2.0))  # a place free at once: nothing to say
    assert not caplog.records


# --- one queue for every process: a freed place goes to the request that has waited longest ------------------


def _queued_in_redis(client, budget) -> list[bytes]:
    return client.zrange(budget._key("queue"), 0, -1)


def _waiting_in_redis(client, budget, served: list[str]) -> threading.Thread:
    """`_queued_waiter`, and until its request has joined the queue every process shares."""
    waiter = _queued_waiter(budget, served)
    deadline = time.monotonic() + 2
    while not _queued_in_redis(client, budget):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    return waiter


def _freed_while_another_process_waits(redis_url):
    """The site's one place held by the first process, a request of the second queued for it, then the place
    given back: (client, first, second, the waiting thread, what it was served)."""
    client = redis.Redis.from_url(redis_url)
    first, second = _two_processes(redis_url, per_minute=100, concurrency=1)
    held = first.take(0)
    served: list[str] = []
    waiter = _waiting_in_redis(client, second, served)
    first.give_back(held)
    return client, first, second, waiter, served


def test_a_freed_place_goes_to_the_request_waiting_in_another_process_not_to_a_newcomer(redis_url):
    """Before this queue, a newcomer in the process that freed the place took it at once while the other
    process's waiter slept until its next poll: under a burst, one view in ~1,300 waited seconds."""
    client, first, second, waiter, served = _freed_while_another_process_waits(redis_url)
    with pytest.raises(BudgetExhausted, match="1 requests are already in flight"):
        first.take(0)  # the freed slot is the waiter's
    waiter.join(5)
    assert served and _queued_in_redis(client, second) == []
    second.give_back(served[0])
    first.give_back(first.take(0))  # nobody waits now: a newcomer goes straight through


def test_a_place_ahead_does_not_overtake_a_request_waiting_in_another_process(redis_url):
    client, first, second, waiter, served = _freed_while_another_process_waits(redis_url)
    place = PlaceAhead(first)
    _lookup_trip(client, first, place, "test:lock:e", "mine", take_lock=True)
    assert not place.use()  # refused: the lookup trip takes a place only when more are free than wait
    waiter.join(5)
    assert served
    second.give_back(served[0])


def test_a_request_that_gives_up_leaves_the_queue(redis_url):
    client = redis.Redis.from_url(redis_url)
    first, second = _two_processes(redis_url, per_minute=100, concurrency=1)
    held = first.take(0)
    with pytest.raises(BudgetExhausted):
        second.take(0.1)
    assert _queued_in_redis(client, second) == []
    first.give_back(held)
    first.give_back(first.take(0))


def test_a_request_queued_by_a_process_that_stopped_asking_is_dropped(redis_url):
    """A killed process leaves its waiter in the queue; its lease runs out and it holds nobody up after that."""
    client = redis.Redis.from_url(redis_url)
    budget = RequestBudget("tenant-1", per_minute=100, concurrency=1, redis=client)
    now = time.time()
    client.zadd(budget._key("queue"), {"ghost": now - 5})
    client.zadd(budget._key("queue-lease"), {"ghost": now + 30})
    with pytest.raises(BudgetExhausted):
        budget.take(0)  # while its lease runs, it is first in line
    client.zadd(budget._key("queue-lease"), {"ghost": now - 1})
    budget.give_back(budget.take(0))
    assert _queued_in_redis(client, budget) == []


def test_a_place_given_back_wakes_the_waiter_in_another_process_at_once(redis_url, monkeypatch):
    """The give-back tells every process when requests are queued; the waiter does not sit out its poll."""
    monkeypatch.setattr("addon.consonance.budget.POLL_SECONDS", 2.0)  # its own next look: a second away
    monkeypatch.setattr("addon.consonance.budget.WOKEN_POLL_SECONDS", 2.0)
    client = redis.Redis.from_url(redis_url)
    first, second = (
        RequestBudget("tenant-1", 100, 1, redis.Redis.from_url(redis_url), wake_channel="test:budget-wake")
        for _ in range(2)
    )
    listener = client.pubsub()
    listener.subscribe("test:budget-wake")
    assert listener.get_message(timeout=1)["type"] == "subscribe"
    heard: list[bytes] = []

    def relay():  # what the app's bus does with the message
        message = listener.get_message(timeout=3)
        if message:
            heard.append(message["data"])
            second.woken(message["data"].decode().removeprefix("budget-freed:tenant-1:"))

    held = first.take(0)
    served: list[str] = []
    waiter = _waiting_in_redis(client, second, served)
    queued = _queued_in_redis(client, second)
    relaying = threading.Thread(target=relay)
    relaying.start()
    time.sleep(0.05)  # the waiter is asleep until its next look
    freed_at = time.monotonic()
    first.give_back(held)
    waiter.join(5)
    relaying.join(5)
    listener.close()
    assert served and heard == [b"budget-freed:tenant-1:" + queued[0]]
    assert time.monotonic() - freed_at < 0.5
    second.give_back(served[0])


def test_a_give_back_names_the_queued_request_the_place_goes_to(redis_url):
    """With a waiter queued in each of two processes, the freed place is the first one's: the message names it,
    so only its process looks (the other's look would be refused, a wasted round trip per place). A queued
    request whose process stopped asking is passed over."""
    client = redis.Redis.from_url(redis_url)
    first, second, third = (
        RequestBudget("tenant-1", 100, 1, redis.Redis.from_url(redis_url), wake_channel="test:budget-wake")
        for _ in range(3)
    )
    listener = client.pubsub()
    listener.subscribe("test:budget-wake")
    assert listener.get_message(timeout=1)["type"] == "subscribe"
    held = first.take(0)
    client.zadd(first._key("queue"), {"ghost": time.time() - 5})  # a killed process's request, first in line
    client.zadd(first._key("queue-lease"), {"ghost": time.time() + 0.3})
    served_second: list[str] = []
    waiting_second = _waiting_in_redis(client, second, served_second)
    served_third: list[str] = []
    waiting_third = _queued_waiter(third, served_third)
    deadline = time.monotonic() + 2
    while len(_queued_in_redis(client, first)) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    ghost, second_token, third_token = _queued_in_redis(client, first)
    assert ghost == b"ghost"
    time.sleep(0.35)  # the ghost's lease runs out

    first.give_back(held)
    message = listener.get_message(timeout=2)
    assert message["data"] == b"budget-freed:tenant-1:" + second_token
    second.woken(second_token.decode())
    third.woken(second_token.decode())  # not its place: its waiter sleeps on
    waiting_second.join(5)
    assert served_second and not served_third

    second.give_back(served_second[0])
    message = listener.get_message(timeout=2)
    assert message["data"] == b"budget-freed:tenant-1:" + third_token
    third.woken(third_token.decode())
    waiting_third.join(5)
    assert served_third
    third.give_back(served_third[0])
    listener.close()
