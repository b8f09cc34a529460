"""The console in a real browser: pages, outcomes, the graph, operator buttons, escaping, refusals."""

from __future__ import annotations

import datetime as dt
import http.client
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import time_machine

from breakwater.breaker import BreakerState, read
from breakwater.console.app import CONFIRM_FIELD
from breakwater.console.history import table
from breakwater.console.security import CONTENT_SECURITY_POLICY, CSRF_FIELD
from breakwater.executions import ExecutionResult, describe
from breakwater.local.stack import EmbeddedStack
from tests.browser.conftest import REBIND_HOST, WAIT_SECONDS, Console, copy_to_docs, require_selenium, serve_console
from tests.workflow.helpers import DEFAULT_SERVICE, order, put_breaker

require_selenium()

from selenium.common.exceptions import (  # noqa: E402 - after the check that selenium is there
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

XSS = "<img src=x onerror=alert(1)>"
Shot = Callable[[str], Path]


def wait_until(browser: Any, condition: Callable[[Any], Any], timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``condition`` until it is truthy; elements replaced by a live refresh are looked up again."""
    waiter = WebDriverWait(
        browser,
        timeout,
        poll_frequency=0.1,
        ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
    )
    return waiter.until(condition)


def css(browser: Any, selector: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, selector)


def texts(browser: Any, selector: str) -> list[str]:
    return [element.text for element in browser.find_elements(By.CSS_SELECTOR, selector)]


def click(browser: Any, selector: str) -> None:
    """Click the element, looked up afresh if a live refresh replaced it meanwhile."""

    def clicked(driver: Any) -> bool:
        css(driver, selector).click()
        return True

    wait_until(browser, clicked)


def lambda_state(result: ExecutionResult) -> str:
    """The state that invoked the payment Lambda, read from the history (not a copy of the ASL's names)."""
    return next(row.step for row in table(result.events) if row.resource.startswith("lambda:"))


def show(browser: Any, selector: str) -> None:
    """Scroll the element to the middle of the window (for the screenshot that follows)."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", css(browser, selector))


def row_outcome(browser: Any, name: str) -> str:
    return css(browser, f'tr.execution[data-name="{name}"] td.outcome').text


def execution_page(console: Console, arn: str) -> str:
    return console.page("/executions/" + quote(arn, safe=""))


def no_alert(browser: Any) -> bool:
    try:
        browser.switch_to.alert  # noqa: B018 - raises when there is none
    except NoAlertPresentException:
        return True
    return False


def raw_request(url: str, method: str = "GET", host: str | None = None, body: dict[str, str] | None = None) -> Any:
    """One HTTP request with exactly the Host and form given (what a browser would not let a test forge)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    data = "&".join(f"{k}={quote(v)}" for k, v in (body or {}).items())
    headers = {"Host": host or parts.netloc, "Content-Type": "application/x-www-form-urlencoded"}
    connection.request(method, parts.path, body=data if body is not None else None, headers=headers)
    response = connection.getresponse()
    response.text = response.read().decode()  # type: ignore[attr-defined]
    connection.close()
    return response


# -- pages ---------------------------------------------------------------------------------


def test_every_page_loads_with_its_script_under_the_content_security_policy(
    browser: Any, console: Console, screenshot: Shot
) -> None:
    # given
    console.run(order())
    # when / then
    for path, heading in (("/", "Executions"), ("/breakers", "Breakers"), ("/provider", "Fake payment provider")):
        browser.get(console.page(path))
        assert css(browser, "h1").text == heading
        screenshot(path.strip("/") or "executions")
    response = raw_request(console.page("/"))
    assert response.status == 200
    assert response.getheader("Content-Security-Policy") == CONTENT_SECURITY_POLICY
    # the page's own script runs (CSP allows 'self'): a filter change submits the form by itself
    browser.get(console.page("/"))
    Select(css(browser, 'select[name="status"]')).select_by_value("SUCCEEDED")
    wait_until(browser, lambda d: "status=SUCCEEDED" in d.current_url and css(d, 'select[name="status"]'))
    assert Select(css(browser, 'select[name="status"]')).first_selected_option.text == "SUCCEEDED"
    assert texts(browser, "tr.execution td:nth-child(2)") == ["SUCCEEDED"]


def test_an_execution_of_each_outcome_appears_in_the_list_newest_first(
    browser: Any, console: Console, embedded: EmbeddedStack, screenshot: Shot
) -> None:
    # given: one execution of each outcome
    charged = console.run(order())
    declined = console.run(order(customerId="cus_card_declined"))
    embedded.provider.configure(mode="down")
    queued = console.run(order())
    embedded.provider.configure(mode="healthy")
    failed = console.run(order(amount="a lot"))
    # when
    browser.get(console.page("/"))
    # then
    expected = {
        charged.name: "charged",
        declined.name: "declined",
        queued.name: "queued (call_failed)",
        failed.name: "InvalidOrder",
    }
    assert {name: row_outcome(browser, name) for name in expected} == expected
    names = [row.get_attribute("data-name") for row in browser.find_elements(By.CSS_SELECTOR, "tr.execution")]
    assert names == [failed.name, queued.name, declined.name, charged.name]
    screenshot("list")
    # and the outcome filter keeps only the queued one
    Select(css(browser, 'select[name="outcome"]')).select_by_value("queued")
    wait_until(browser, lambda d: "outcome=queued" in d.current_url)
    listed = wait_until(
        browser, lambda d: [r.get_attribute("data-name") for r in d.find_elements(By.CSS_SELECTOR, "tr.execution")]
    )
    assert listed == [queued.name]


def test_the_list_and_the_execution_update_while_an_execution_runs(
    browser: Any, console: Console, embedded: EmbeddedStack, screenshot: Shot
) -> None:
    # given: the list is open, and a marker shows whether the page is ever reloaded
    browser.get(console.page("/"))
    browser.execute_script("window.notReloaded = true;")
    with embedded.provider.holding(limit_seconds=30):
        # when: an execution starts and waits on the provider
        arn = console.start(order())
        name = arn.rsplit(":", 1)[-1]
        # then: it appears, running, without a reload
        row = f'tr.execution[data-name="{name}"]'
        wait_until(browser, lambda d: css(d, row).get_attribute("data-status") == "RUNNING")
        assert browser.execute_script("return window.notReloaded === true;")
        # and its page shows the state it is in now: the one whose call the provider holds
        wait_until(browser, lambda _: embedded.provider.in_flight() == 1)
        calling = lambda_state(describe(embedded.client("stepfunctions"), arn))
        browser.get(execution_page(console, arn))
        browser.execute_script("window.notReloaded = true;")
        wait_until(browser, lambda d: css(d, "g.state.current").get_attribute("data-state") == calling)
        screenshot("running")
    # when the provider answers, the page follows to the end by itself
    wait_until(browser, lambda d: css(d, "#summary").get_attribute("data-status") == "SUCCEEDED")
    assert browser.execute_script("return window.notReloaded === true;")
    assert browser.find_elements(By.CSS_SELECTOR, "g.state.current") == []
    assert css(browser, "#outcome").text == "charged"


# -- an execution ------------------------------------------------------------------------


def test_the_graph_highlights_the_path_taken_and_the_event_table_opens(
    browser: Any, console: Console, screenshot: Shot
) -> None:
    # given
    result = console.run(order(orderId="ord-graph-1"))
    # when
    browser.get(execution_page(console, result.arn))
    # then: exactly the states entered are highlighted, each transition along the path is taken
    entered = {g.get_attribute("data-state") for g in browser.find_elements(By.CSS_SELECTOR, "g.state.entered")}
    assert entered == set(result.path)
    assert {g.get_attribute("data-mark") for g in browser.find_elements(By.CSS_SELECTOR, "g.state.entered")} == {
        "succeeded"
    }
    all_states = browser.find_elements(By.CSS_SELECTOR, "g.state")
    assert len(all_states) > len(entered)
    taken = {
        (p.get_attribute("data-source"), p.get_attribute("data-target"))
        for p in browser.find_elements(By.CSS_SELECTOR, "path.transition.taken")
    }
    assert taken == set(zip(result.path, result.path[1:], strict=False))
    # the cost and the event table, as the console's Table view shows it
    cost = result.cost()
    assert css(browser, "#cost").text.startswith(f"{cost.states_entered} states entered, {cost.dynamodb_reads} reads")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.event")
    assert len(rows) == len(result.events)
    assert texts(browser, "#events th") == [
        "ID",
        "Type",
        "Step",
        "Resource",
        "Started after",
        "Duration",
        "Date and time",
    ]
    assert "ord-graph-1" in css(browser, "#execution-input").text
    first = css(browser, "#event-1")
    assert not first.is_displayed()
    click(browser, 'button[data-toggle="event-1"]')
    wait_until(browser, lambda d: css(d, "#event-1").is_displayed())
    assert "ord-graph-1" in css(browser, "#event-1").text
    show(browser, "#event-1")
    screenshot("event-opened")


def test_a_trip_path_marks_the_caught_call_and_highlights_each_write(
    browser: Any, embedded: EmbeddedStack, provider: Any, screenshot: Shot
) -> None:
    # given: a breaker that trips on its first failure, and a provider that is down
    server, console = serve_console(embedded, embedded.deploy(FailureThreshold="1"))
    try:
        provider.configure(mode="down")
        result = console.run(order())
        assert result.label == "closed, failure that trips"
        # when
        browser.set_window_size(1440, 1960)  # the whole graph in the picture
        browser.get(execution_page(console, result.arn))
        # then: the failed call is marked as a caught error, every other state entered as succeeded
        marks = {
            g.get_attribute("data-state"): g.get_attribute("data-mark")
            for g in browser.find_elements(By.CSS_SELECTOR, "g.state.entered")
        }
        calling = lambda_state(result)
        assert marks == {state: "caught" if state == calling else "succeeded" for state in result.path}
        assert css(browser, "#outcome").text == "queued (call_failed)"
        cost = result.cost()
        assert (cost.dynamodb_writes, cost.sqs_messages) == (2, 1)
        assert f"{cost.dynamodb_writes} writes" in css(browser, "#cost").text
        copy_to_docs(screenshot("trip-path"), "console.png")
    finally:
        browser.set_window_size(1440, 1000)
        server.stop()


def test_a_failed_execution_marks_the_state_it_failed_in(browser: Any, console: Console) -> None:
    # given
    result = console.run(order(currency="dollars"))
    # when
    browser.get(execution_page(console, result.arn))
    # then
    failed = browser.find_elements(By.CSS_SELECTOR, "g.state.failed")
    assert [g.get_attribute("data-state") for g in failed] == [result.path[-1]]
    assert css(browser, "#error").text == "InvalidOrder"
    assert "currency" in css(browser, "#cause").text


def test_a_bad_or_unknown_execution_arn_gives_a_clear_not_found_page(browser: Any, console: Console) -> None:
    known = console.run(order()).arn
    for arn, message in (
        ("not-an-arn", "is not a Step Functions execution ARN"),
        (known[:-4] + "zzzz", "no execution"),
    ):
        browser.get(execution_page(console, arn))
        assert css(browser, "h1").text == "Not found"
        assert message in css(browser, "#error-message").text
        assert "Traceback" not in browser.page_source
    assert raw_request(execution_page(console, "not-an-arn")).status == 404


# -- breakers ---------------------------------------------------------------------------


def press(browser: Any, service: str, action: str, accept: bool = True) -> str:
    """Click a breaker's button and answer its confirmation; returns the question asked."""
    click(browser, f'tr.breaker[data-service="{service}"] button[data-action="{action}"]')
    alert = WebDriverWait(browser, WAIT_SECONDS).until(expected_conditions.alert_is_present())
    question = str(alert.text)
    if accept:
        alert.accept()
    else:
        alert.dismiss()
    return question


def breaker_state(browser: Any, service: str) -> str:
    return str(css(browser, f'tr.breaker[data-service="{service}"]').get_attribute("data-state"))


def test_trip_queues_the_next_order_and_reset_closes_the_breaker(
    browser: Any, console: Console, embedded: EmbeddedStack, screenshot: Shot
) -> None:
    # given: the default breaker has no record yet, and the page still offers it
    browser.get(console.page("/breakers"))
    assert breaker_state(browser, DEFAULT_SERVICE) == "CLOSED"
    # a dismissed confirmation changes nothing
    press(browser, DEFAULT_SERVICE, "trip", accept=False)
    assert breaker_state(browser, DEFAULT_SERVICE) == "CLOSED"
    # when: trip, confirmed
    question = press(browser, DEFAULT_SERVICE, "trip")
    # then
    assert "FORCED_OPEN" in question
    wait_until(browser, lambda d: css(d, "#flash").text == f"{DEFAULT_SERVICE}: CLOSED -> FORCED_OPEN")
    assert breaker_state(browser, DEFAULT_SERVICE) == "FORCED_OPEN"
    # the transition, read from the table's stream at its millisecond: the breaker was CLOSED, then FORCED_OPEN
    browser.refresh()
    moved = css(browser, "#transitions tr.transition")
    assert (moved.get_attribute("data-service"), moved.get_attribute("data-to")) == (DEFAULT_SERVICE, "FORCED_OPEN")
    record = read(embedded.client("dynamodb"), console.stack.table_name, DEFAULT_SERVICE)
    assert int(moved.get_attribute("data-at-ms")) == record.last_transition_ms
    states = [r.get_attribute("data-state") for r in browser.find_elements(By.CSS_SELECTOR, "#timeline rect")]
    assert states == ["CLOSED", "FORCED_OPEN"]
    screenshot("tripped")
    tripped = console.run(order())
    assert tripped.output["status"] == "queued"
    assert tripped.output["reason"] == "forced_open"
    assert not tripped.called_provider()
    browser.get(console.page("/"))
    assert row_outcome(browser, tripped.name) == "queued (forced_open)"
    # when: reset, confirmed
    browser.get(console.page("/breakers"))
    press(browser, DEFAULT_SERVICE, "reset")
    # then
    wait_until(browser, lambda d: css(d, "#flash").text == f"{DEFAULT_SERVICE}: FORCED_OPEN -> CLOSED")
    record = read(embedded.client("dynamodb"), console.stack.table_name, DEFAULT_SERVICE)
    assert record.state == BreakerState.CLOSED
    assert record.version == 2
    assert console.run(order()).output["status"] == "charged"


def test_shadow_and_enforce_set_the_mode_and_leave_the_state_alone(
    browser: Any, console: Console, embedded: EmbeddedStack
) -> None:
    # given
    browser.get(console.page("/breakers"))
    assert css(browser, f'tr.breaker[data-service="{DEFAULT_SERVICE}"] td.mode').text == "default"
    # when
    assert "SHADOW" in press(browser, DEFAULT_SERVICE, "shadow")
    # then
    wait_until(browser, lambda d: css(d, "#flash").text == f"{DEFAULT_SERVICE}: mode default -> SHADOW")
    assert css(browser, f'tr.breaker[data-service="{DEFAULT_SERVICE}"] td.mode').text == "SHADOW"
    assert breaker_state(browser, DEFAULT_SERVICE) == "CLOSED"
    press(browser, DEFAULT_SERVICE, "enforce")
    wait_until(browser, lambda d: css(d, "#flash").text == f"{DEFAULT_SERVICE}: mode SHADOW -> ENFORCE")
    assert read(embedded.client("dynamodb"), console.stack.table_name, DEFAULT_SERVICE).mode == "ENFORCE"


def test_an_override_for_a_service_no_order_uses_is_refused_not_created(
    browser: Any, console: Console, embedded: EmbeddedStack
) -> None:
    # when: a trip of a breaker that has no record and is not the stack's ServiceName (a typo, most likely)
    answer = raw_request(
        console.page("/breakers/paymnet-api/trip"),
        "POST",
        body={CSRF_FIELD: console.app.token.value, CONFIRM_FIELD: "yes"},
    )
    # then: the page says why, and no breaker was started
    assert answer.status == 303
    browser.get(console.url + answer.getheader("Location").removeprefix("/console"))
    assert "paymnet-api has no record" in css(browser, "#flash").text
    assert not read(embedded.client("dynamodb"), console.stack.table_name, "paymnet-api").exists


def fragment_fetches(browser: Any) -> int:
    return int(
        browser.execute_script(
            "return performance.getEntriesByType('resource').filter(e => e.name.includes('fragment=1')).length;"
        )
    )


def test_a_live_part_is_replaced_only_when_it_changed(browser: Any, console: Console, embedded: EmbeddedStack) -> None:
    # The server's clock stands still: the timeline of other tests' breakers (they share the metric)
    # would otherwise move on at the turn of a minute.
    with time_machine.travel(dt.datetime.now(tz=dt.UTC), tick=False):
        # given: the breakers page, its table tagged in the DOM
        browser.get(console.page("/breakers"))
        browser.execute_script("document.getElementById('breakers').dataset.probe = 'kept';")
        # when: the page has fetched its live part twice with nothing changed
        wait_until(browser, lambda d: fragment_fetches(d) >= 2)
        # then: the table is the same element
        assert browser.execute_script("return document.getElementById('breakers').dataset.probe;") == "kept"
        # and when the breaker changes, the next fetch shows it
        put_breaker(embedded, console.stack, state="DISABLED", version=1)
        wait_until(browser, lambda d: breaker_state(d, DEFAULT_SERVICE) == "DISABLED")
        assert browser.execute_script("return document.getElementById('breakers').dataset.probe;") is None


def test_an_open_breaker_counts_down_to_its_open_until_time(
    browser: Any, console: Console, embedded: EmbeddedStack, clock: Any
) -> None:
    # given: a breaker that opened at the (patched) server time, for 30 s
    put_breaker(embedded, console.stack, state="OPEN", openUntilMs=clock.now_ms() + 30_000, tripCount=1, version=1)
    # when
    browser.get(console.page("/breakers"))
    # then: the countdown reads the server's clock, not the browser's (they are months apart here)
    countdown = wait_until(browser, lambda d: css(d, ".countdown").text or None)
    seconds = float(countdown.removeprefix("(in ").removesuffix(" s)"))
    assert 25 < seconds <= 30
    assert breaker_state(browser, DEFAULT_SERVICE) == "OPEN"


# -- the provider ---------------------------------------------------------------------------


def test_the_provider_page_switches_the_mode_and_shows_the_counters(
    browser: Any, console: Console, embedded: EmbeddedStack, screenshot: Shot
) -> None:
    console.run(order())
    browser.get(console.page("/provider"))
    assert css(browser, "#provider-mode").text == "healthy"
    assert css(browser, "#calls").text == "1"
    # when
    Select(css(browser, "#mode")).select_by_value("flaky")
    failure_rate = css(browser, "#failureRate")
    failure_rate.clear()
    failure_rate.send_keys("0.5")
    click(browser, "#switch")
    # then
    wait_until(browser, lambda d: css(d, "#flash").text == "provider mode: flaky")
    assert css(browser, "#provider-mode").text == "flaky"
    assert embedded.provider.settings.mode == "flaky"
    assert embedded.provider.settings.failure_rate == 0.5
    screenshot("provider")
    # a bad number is a clear error, and changes nothing
    failure_rate = css(browser, "#failureRate")
    failure_rate.clear()
    failure_rate.send_keys("half")
    click(browser, "#switch")
    message = wait_until(browser, lambda d: css(d, "#error-message").text)
    assert "failureRate 'half': must be a number" in message
    assert embedded.provider.settings.failure_rate == 0.5


# -- security ---------------------------------------------------------------------------------


def test_user_data_renders_as_text_everywhere(
    browser: Any, console: Console, embedded: EmbeddedStack, screenshot: Shot
) -> None:
    # given: an order whose customerId is markup (valid: it is charged), one whose orderId is (invalid)
    charged = console.run(order(customerId=XSS))
    invalid = console.run(order(orderId=XSS))
    assert charged.output["status"] == "charged"
    assert invalid.error == "InvalidOrder"
    put_breaker(embedded, console.stack, service="<b>bold</b>", state="OPEN", openUntilMs=1, version=1)
    pages = (execution_page(console, charged.arn), execution_page(console, invalid.arn), console.page("/breakers"))
    for url in (*pages, execution_page(console, XSS)):  # the last: a not-found page that quotes the "ARN"
        # when
        browser.get(url)
        # then: the markup is on the page as text, and no element was made of it
        assert browser.find_elements(By.CSS_SELECTOR, "main img, main b") == []
        assert no_alert(browser)
    browser.get(execution_page(console, charged.arn))
    assert XSS in css(browser, "#execution-input").text
    click(browser, 'button[data-toggle="event-1"]')
    wait_until(browser, lambda d: XSS in css(d, "#event-1").text)
    show(browser, "#event-1")
    screenshot("escaped")
    browser.get(execution_page(console, invalid.arn))
    assert XSS in css(browser, "#execution-input").text
    browser.get(console.page("/breakers"))
    assert "<b>bold</b>" in css(browser, 'tr.breaker[data-service="<b>bold</b>"] td').text
    browser.get(execution_page(console, XSS))
    assert XSS in css(browser, "#error-message").text


def test_a_foreign_host_is_refused_even_when_it_resolves_to_loopback(browser: Any, console: Console) -> None:
    port = urlsplit(console.url).port
    # a DNS name that resolves to 127.0.0.1 (as in DNS rebinding) gets nothing
    browser.get(f"http://{REBIND_HOST}:{port}/console/")
    assert "403 Forbidden" in css(browser, "body").text
    assert browser.find_elements(By.CSS_SELECTOR, "table, form") == []
    # the loopback names are served
    browser.get(f"http://localhost:{port}/console/breakers")
    assert css(browser, "h1").text == "Breakers"
    # and a forged Host header is refused whatever the connection
    assert raw_request(console.page("/breakers"), host="evil.example").status == 403
    assert raw_request(console.page("/breakers"), host=f"evil.example:{port}").status == 403
    assert raw_request(console.page("/breakers"), host=f"[::1]:{port}").status == 200


def test_a_state_change_without_the_token_is_refused(
    browser: Any, console: Console, embedded: EmbeddedStack, screenshot: Shot
) -> None:
    # given: the breakers page, with the trip form's token taken out
    browser.get(console.page("/breakers"))
    form = f'tr.breaker[data-service="{DEFAULT_SERVICE}"] form[action$="/trip"]'
    browser.execute_script(f"document.querySelector('{form} input[name={CSRF_FIELD}]').remove();")
    # when
    press(browser, DEFAULT_SERVICE, "trip")
    # then
    wait_until(browser, lambda d: css(d, "h1").text == "Forbidden")
    assert "no valid console token" in css(browser, "#error-message").text
    screenshot("refused")
    trip = console.page(f"/breakers/{DEFAULT_SERVICE}/trip")
    assert raw_request(trip, "POST", body={CONFIRM_FIELD: "yes"}).status == 403
    assert raw_request(trip, "POST", body={CSRF_FIELD: "guess", CONFIRM_FIELD: "yes"}).status == 403
    assert not read(embedded.client("dynamodb"), console.stack.table_name, DEFAULT_SERVICE).exists
    # the right token passes (the page's own form is not the only way, but it is the only way in)
    answer = raw_request(trip, "POST", body={CSRF_FIELD: console.app.token.value, CONFIRM_FIELD: "yes"})
    assert answer.status == 303
    assert read(embedded.client("dynamodb"), console.stack.table_name, DEFAULT_SERVICE).state == "FORCED_OPEN"


def test_without_javascript_an_operator_action_asks_on_a_page_of_its_own(console: Console, embedded: Any) -> None:
    trip = console.page(f"/breakers/{DEFAULT_SERVICE}/disable")
    answer = raw_request(trip, "POST", body={CSRF_FIELD: console.app.token.value})
    assert answer.status == 200
    assert f"Disable {DEFAULT_SERVICE}?" in answer.text
    assert not read(embedded.client("dynamodb"), console.stack.table_name, DEFAULT_SERVICE).exists


def test_against_aws_the_console_is_read_only_and_says_so(
    browser: Any, embedded: EmbeddedStack, provider: Any, screenshot: Shot
) -> None:
    # given: a console that believes it reads AWS (no local endpoint) and was not given --allow-writes
    server, console = serve_console(embedded, embedded.deploy(), local_stack=False, label=None)
    try:
        # when
        browser.get(console.page("/breakers"))
        # then
        assert "Read-only" in css(browser, "#mode-banner").text
        assert "--allow-writes" in css(browser, "#mode-banner").text
        assert all(not b.is_enabled() for b in browser.find_elements(By.CSS_SELECTOR, "button.action"))
        screenshot("read-only")
        trip = console.page(f"/breakers/{DEFAULT_SERVICE}/trip")
        answer = raw_request(trip, "POST", body={CSRF_FIELD: console.app.token.value, CONFIRM_FIELD: "yes"})
        assert answer.status == 403
        assert "read-only" in answer.text
        assert not read(embedded.client("dynamodb"), console.stack.table_name, DEFAULT_SERVICE).exists
    finally:
        server.stop()


def test_against_aws_with_allow_writes_the_buttons_work_and_the_page_warns(
    browser: Any, embedded: EmbeddedStack, provider: Any
) -> None:
    server, console = serve_console(embedded, embedded.deploy(), local_stack=False, label=None, allow_writes=True)
    try:
        browser.get(console.page("/breakers"))
        assert "Writes allowed on AWS" in css(browser, "#mode-banner").text
        press(browser, DEFAULT_SERVICE, "disable")
        wait_until(browser, lambda d: breaker_state(d, DEFAULT_SERVICE) == "DISABLED")
    finally:
        server.stop()


def test_the_page_names_no_outside_origin(browser: Any, console: Console) -> None:
    """Every script, style and picture comes from the console itself (no CDN, no network)."""
    console.run(order())
    browser.get(console.page("/"))
    sources = browser.execute_script(
        "return [...document.querySelectorAll('script[src], link[href], img[src]')].map(e => e.src || e.href);"
    )
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(console.url))
    assert sources
    assert all(source.startswith(origin + "/console/static/") for source in sources), sources
    entries = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    assert all(entry.startswith(origin) for entry in entries), entries
    assert json.loads(json.dumps(entries)) == entries
