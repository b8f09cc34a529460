"""A local stack's services (breakwater/local/services.py): the stack owns them; moto's patched classes find the
current stack's through one registry, and a stack opened inside another needs nothing saved or restored."""

from __future__ import annotations

from breakwater.local import services
from breakwater.local.services import LocalServices


def test_the_stack_opened_last_is_current_until_it_closes():
    outer, inner = LocalServices(function_endpoint="http://127.0.0.1:1"), LocalServices()
    services.enter(outer)
    try:
        services.enter(inner)
        assert services.current() is inner
        services.leave(inner)
        assert services.current() is outer
    finally:
        services.leave(outer)


def test_stacks_may_close_in_any_order():
    first, second = LocalServices(), LocalServices()
    services.enter(first)
    services.enter(second)
    services.leave(first)  # the first closes while the second is still open

    assert services.current() is second
    services.leave(second)
    assert services.current() not in (first, second)


def test_each_stack_has_its_own_runtime_and_evaluator():
    one, other = LocalServices(), LocalServices()

    assert one.runtime is not other.runtime
    assert one.jsonata is not other.jsonata
    one.jsonata.evaluate("$x + 1", {"x": 1})
    assert (one.jsonata.parsed_count(), other.jsonata.parsed_count()) == (1, 0)


def test_moto_used_without_a_stack_gets_services_of_its_own(monkeypatch):
    monkeypatch.setattr(services, "_open", [])  # as if no stack were open (the session's stack may be)

    assert services.current() is services.current()
    assert services.current().function_endpoint is None
