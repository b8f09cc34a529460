"""The console at parity with the Step Functions console for this workflow (issue 23): start an execution with an
input editor, stop and redrive one, each state's duration and a timeline, a state's input and output from the
graph, EXPRESS executions from their logs, and a graph laid out by ELK with no box crossed by an edge."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from breakwater.console.app import CONFIRM_FIELD
from breakwater.console.security import CSRF_FIELD
from breakwater.executions import describe, wait
from breakwater.local.stack import EmbeddedStack
from tests.browser.conftest import WAIT_SECONDS, Console, copy_to_docs, require_selenium, serve_console
from tests.workflow.helpers import order

require_selenium()

from selenium.webdriver.common.by import By  # noqa: E402 - after the check that selenium is there
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.browser.test_console import click, css, execution_page, raw_request, show, texts, wait_until  # noqa: E402

Shot = Callable[[str], Path]


def accept_confirmation(browser: Any) -> str:
    alert = WebDriverWait(browser, WAIT_SECONDS).until(expected_conditions.alert_is_present())
    question = str(alert.text)
    alert.accept()
    return question


def type_into(browser: Any, selector: str, text: str) -> None:
    field = css(browser, selector)
    field.clear()
    field.send_keys(text)


def executions_of(console: Console) -> list[dict[str, Any]]:
    sfn = console.env.client("stepfunctions")
    return list(sfn.list_executions(stateMachineArn=console.stack.state_machine_arn)["executions"])


# -- start --------------------------------------------------------------------------------------------


def test_start_with_the_sample_input_opens_the_new_execution(browser: Any, console: Console, screenshot: Shot) -> None:
    # given: the start page, its editor holding events/order.json
    browser.get(console.page("/"))
    click(browser, "a.button.start")
    wait_until(browser, lambda d: css(d, "h1").text == "Start execution")
    sample = json.loads((Path(__file__).parents[2] / "events" / "order.json").read_text())
    assert json.loads(css(browser, "#input").get_attribute("value")) == sample
    assert css(browser, "#input-check").text == "Valid JSON."
    # when: named, with another order id, started and confirmed
    type_into(browser, "#input", json.dumps({**sample, "orderId": "ord-from-console"}))
    type_into(browser, "#name", "from-the-console")
    screenshot("start-form")
    click(browser, "#start")
    assert "Start an execution" in accept_confirmation(browser)
    # then: the new execution's page, which follows it to its end
    wait_until(browser, lambda d: css(d, "#summary").get_attribute("data-status") == "SUCCEEDED")
    assert css(browser, "#flash").text == "started from-the-console"
    assert css(browser, "#outcome").text == "charged"
    assert "ord-from-console" in css(browser, "#execution-input").text
    assert [e["name"] for e in executions_of(console)] == ["from-the-console"]


def test_input_that_is_not_json_is_refused_in_the_page_and_by_the_server(
    browser: Any, console: Console, screenshot: Shot
) -> None:
    browser.get(console.page("/start"))
    # when: the input is broken
    type_into(browser, "#input", '{"orderId": "ord-1", "amount": 1999,')
    # then: the page says so at once, and the button is off
    check = wait_until(
        browser, lambda d: css(d, "#input-check").text if "Not JSON" in css(d, "#input-check").text else None
    )
    assert check.startswith("Not JSON: ")
    assert not css(browser, "#start").is_enabled()
    screenshot("start-invalid")
    # and a request that skips the page's script gets the form back with the input kept and the reason, not a trace
    machine = console.stack.state_machine_arn
    answer = raw_request(
        console.page("/start"),
        "POST",
        body={
            CSRF_FIELD: console.app.token.value,
            CONFIRM_FIELD: "yes",
            "machine": machine,
            "name": "",
            "input": "{bad json",
        },
    )
    assert answer.status == 400
    assert "the input is not JSON: Expecting property name enclosed in double quotes at line 1 column 2" in answer.text
    assert "{bad json" in answer.text
    bad_name = raw_request(
        console.page("/start"),
        "POST",
        body={
            CSRF_FIELD: console.app.token.value,
            CONFIRM_FIELD: "yes",
            "machine": machine,
            "name": "a b",
            "input": "{}",
        },
    )
    assert bad_name.status == 400
    assert "name &#39;a b&#39;: 1 to 80 characters, without spaces" in bad_name.text
    assert executions_of(console) == []


def test_a_start_without_the_token_is_refused(console: Console) -> None:
    body = {CONFIRM_FIELD: "yes", "machine": console.stack.state_machine_arn, "name": "", "input": "{}"}
    assert raw_request(console.page("/start"), "POST", body=body).status == 403
    assert executions_of(console) == []


# -- stop and redrive ---------------------------------------------------------------------------------------


def test_stop_aborts_a_running_execution_with_its_error_and_cause(
    browser: Any, console: Console, embedded: EmbeddedStack, screenshot: Shot
) -> None:
    with embedded.provider.holding(limit_seconds=30):
        # given: an execution waiting on the provider, its page open
        arn = console.start(order())
        wait_until(browser, lambda _: embedded.provider.in_flight() == 1)
        browser.get(execution_page(console, arn))
        # when: stopped with an error and a cause
        type_into(browser, "#stop-error", "Manual")
        type_into(browser, "#stop-cause", "the operator stopped it from the console")
        screenshot("stop-form")
        click(browser, "#stop")
        assert "ABORTED" in accept_confirmation(browser)
        # then: ABORTED at once, with the error and the cause, while the provider still holds the call
        wait_until(browser, lambda d: css(d, "#summary").get_attribute("data-status") == "ABORTED")
        assert css(browser, "#error").text == "Manual"
        assert css(browser, "#cause").text == "the operator stopped it from the console"
        assert embedded.provider.in_flight() == 1
        described = embedded.client("stepfunctions").describe_execution(executionArn=arn)
        assert (described["status"], described["error"]) == ("ABORTED", "Manual")
        assert browser.find_elements(By.CSS_SELECTOR, "#stop") == []
    embedded.runtime.wait_idle(timeout=WAIT_SECONDS)


def test_redrive_runs_an_aborted_execution_again_from_where_it_stopped(
    browser: Any, console: Console, embedded: EmbeddedStack, screenshot: Shot
) -> None:
    sfn = embedded.client("stepfunctions")
    with embedded.provider.holding(limit_seconds=30):
        arn = console.start(order())
        wait_until(browser, lambda _: embedded.provider.in_flight() == 1)
        sfn.stop_execution(executionArn=arn, error="Manual", cause="stopped to redrive")
    embedded.runtime.wait_idle(timeout=WAIT_SECONDS)
    # when
    browser.get(execution_page(console, arn))
    click(browser, "#redrive")
    assert "runs again from the state that did not succeed" in accept_confirmation(browser)
    # then: the same execution runs on from its call, and is charged
    wait_until(browser, lambda d: css(d, "#summary").get_attribute("data-status") == "SUCCEEDED")
    assert css(browser, "#outcome").text == "charged"
    assert "ExecutionRedriven" in texts(browser, "#events td")
    assert browser.find_elements(By.CSS_SELECTOR, "#redrive") == []
    result = describe(sfn, arn)
    assert result.path.count("Read breaker state") == 1
    show(browser, "#events")
    screenshot("redriven")


def test_a_failed_execution_is_redriven_from_its_failed_state(browser: Any, console: Console) -> None:
    failed = console.run(order(currency="dollars"))
    browser.get(execution_page(console, failed.arn))
    click(browser, "#redrive")
    accept_confirmation(browser)
    wait_until(browser, lambda d: "redriven" in css(d, "#flash").text)
    redriven = wait(console.env.client("stepfunctions"), failed.arn, timeout=WAIT_SECONDS)
    # the Fail state it failed in runs again (the input is as invalid as before), under the same ARN
    assert redriven.status == "FAILED"
    assert [e["type"] for e in redriven.events].count("ExecutionRedriven") == 1
    assert redriven.path[-2:] == [failed.path[-1], failed.path[-1]]


def test_a_succeeded_execution_offers_no_redrive_and_says_why(browser: Any, console: Console) -> None:
    done = console.run(order())
    browser.get(execution_page(console, done.arn))
    assert browser.find_elements(By.CSS_SELECTOR, "#redrive, #stop") == []
    assert css(browser, "#redrive-reason").text == "Redrive: Execution is SUCCEEDED and cannot be redriven."


# -- per-state durations, the timeline, a state's input and output ---------------------------------------


def test_each_state_has_its_duration_and_a_bar_on_the_timeline(
    browser: Any, console: Console, screenshot: Shot
) -> None:
    result = console.run(order())
    browser.get(execution_page(console, result.arn))
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.state-run")
    assert [row.get_attribute("data-state") for row in rows] == result.path
    entered = [e for e in result.events if e["type"].endswith("StateEntered")]
    exited = [e for e in result.events if e["type"].endswith("StateExited")]
    start = result.events[0]["timestamp"]
    for row, came, went in zip(rows, entered, exited, strict=True):
        assert int(row.get_attribute("data-started-ms")) == round((came["timestamp"] - start).total_seconds() * 1000)
        assert int(row.get_attribute("data-duration-ms")) == round(
            (went["timestamp"] - came["timestamp"]).total_seconds() * 1000
        )
    bars = browser.find_elements(By.CSS_SELECTOR, "tr.state-run rect.bar")
    xs = [float(bar.get_attribute("data-x")) for bar in bars]
    assert xs == sorted(xs)  # each state starts after the one before
    assert all(float(bar.get_attribute("data-width")) > 0 for bar in bars)
    # the event table gives each StateEntered row the state's duration
    first_state = css(browser, f'tr.event[data-event-id="{entered[0]["id"]}"] td.duration').text
    assert first_state.endswith(("ms", " s"))
    show(browser, "#states")
    screenshot("timeline")


def test_clicking_a_state_in_the_graph_shows_its_input_output_and_duration(
    browser: Any, console: Console, screenshot: Shot
) -> None:
    result = console.run(order(orderId="ord-clicked"))
    calling = next(row for row in result.path if row.startswith("Call payment provider"))
    browser.get(execution_page(console, result.arn))
    wait_until(browser, lambda d: css(d, "#graph").get_attribute("data-layout") == "elk")
    # when
    click(browser, f'g.state[data-state="{calling}"]')
    # then
    detail = wait_until(
        browser,
        lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, "[data-state-detail]") if e.is_displayed()), None),
    )
    assert detail.get_attribute("data-state-detail") == calling
    entered = next(e for e in result.events if (e.get("stateEnteredEventDetails") or {}).get("name") == calling)
    shown_input = json.loads(detail.find_element(By.CSS_SELECTOR, ".state-input").text)
    assert shown_input == json.loads(
        entered["stateEnteredEventDetails"]["input"]
    )  # the workflow passes {}: data rides in variables
    output = json.loads(detail.find_element(By.CSS_SELECTOR, ".state-output").text)
    assert (output["orderId"], output["chargeId"]) == ("ord-clicked", result.output["chargeId"])
    assert detail.find_element(By.CSS_SELECTOR, ".duration").text.endswith(("ms", " s"))
    show(browser, "#state-details")
    screenshot("state-clicked")


# -- EXPRESS from its logs ----------------------------------------------------------------------------------


def test_an_express_execution_runs_from_the_console_and_opens_from_its_logs(
    browser: Any, embedded: EmbeddedStack, provider: Any, screenshot: Shot
) -> None:
    stack = embedded.deploy(WorkflowType="EXPRESS", ExecutionLogLevel="ALL", ExecutionLogIncludesData="true")
    server, console = serve_console(embedded, stack)
    try:
        # when: started from the console (synchronously: EXPRESS)
        browser.get(console.page(f"/start?machine={stack.state_machine_arn}"))
        type_into(browser, "#input", json.dumps(order(orderId="ord-express")))
        click(browser, "#start")
        accept_confirmation(browser)
        # then: its result, at once
        wait_until(browser, lambda d: css(d, "#sync-status").text == "SUCCEEDED")
        assert json.loads(css(browser, "#sync-output").text)["status"] == "charged"
        screenshot("express-result")
        # and it is listed from the log group, and opens from its log events: graph, states, events
        browser.get(console.page("/"))
        row = wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr.execution"))[0]
        assert row.get_attribute("data-status") == "SUCCEEDED"
        assert row.get_attribute("data-outcome") == "charged"
        row.find_element(By.CSS_SELECTOR, "a").click()
        wait_until(browser, lambda d: css(d, "#read-from").text.startswith("the state machine's log group"))
        assert css(browser, "#outcome").text == "charged"
        assert "ord-express" in css(browser, "#execution-input").text
        entered = {g.get_attribute("data-state") for g in browser.find_elements(By.CSS_SELECTOR, "g.state.entered")}
        assert "Call payment provider" in entered
        assert len(browser.find_elements(By.CSS_SELECTOR, "tr.state-run")) == len(entered)
        assert browser.find_elements(By.CSS_SELECTOR, "#stop, #redrive") == []
        screenshot("express-opened")
    finally:
        server.stop()


# -- the graph ------------------------------------------------------------------------------------------------

# Every path segment against every box but its own ends: does it enter the box (shrunk by 1 px)?
CROSSINGS = """
const svg = document.getElementById('graph');
const boxes = {};
for (const g of svg.querySelectorAll('g.state')) {
  const r = g.querySelector('rect');
  boxes[g.dataset.state] = {x: +r.getAttribute('x'), y: +r.getAttribute('y'),
                            w: +r.getAttribute('width'), h: +r.getAttribute('height')};
}
function points(d) {
  const numbers = d.replace(/[MLC,]/g, ' ').trim().split(/\\s+/).map(Number);
  const found = [];
  for (let i = 0; i + 1 < numbers.length; i += 2) found.push([numbers[i], numbers[i + 1]]);
  return found;
}
function crosses(a, b, box) {
  const left = box.x + 1, right = box.x + box.w - 1, top = box.y + 1, bottom = box.y + box.h - 1;
  let t0 = 0, t1 = 1;
  const dx = b[0] - a[0], dy = b[1] - a[1];
  for (const [p, q] of [[-dx, a[0] - left], [dx, right - a[0]], [-dy, a[1] - top], [dy, bottom - a[1]]]) {
    if (p === 0) { if (q < 0) return false; continue; }
    const t = q / p;
    if (p < 0) { if (t > t1) return false; if (t > t0) t0 = t; }
    else { if (t < t0) return false; if (t < t1) t1 = t; }
  }
  return t0 < t1;
}
const found = [];
const paths = svg.querySelectorAll('path.transition');
for (const path of paths) {
  const line = points(path.getAttribute('d'));
  const d = path.getAttribute('d').replace(/\\s+/g, ' ');
  if (!/^M[\\d\\s.L-]+$/.test(d)) found.push('not a polyline: ' + d);
  for (const [name, box] of Object.entries(boxes)) {
    if (name === path.dataset.source || name === path.dataset.target) continue;
    for (let i = 0; i + 1 < line.length; i++) {
      if (crosses(line[i], line[i + 1], box)) {
        found.push(path.dataset.source + ' -> ' + path.dataset.target + ' crosses ' + name);
      }
    }
  }
}
const overlaps = [];
const names = Object.keys(boxes);
for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) {
  const a = boxes[names[i]], b = boxes[names[j]];
  if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) {
    overlaps.push(names[i] + ' / ' + names[j]);
  }
}
return {crossings: found, overlaps: overlaps, boxes: names.length, paths: paths.length};
"""


def test_the_graph_is_laid_out_by_elk_with_no_box_crossed_by_an_edge_and_fits_the_page(
    browser: Any, console: Console, embedded: EmbeddedStack, provider: Any, screenshot: Shot
) -> None:
    # given: a trip path (the longest), on a console whose stack trips on the first failure
    server, tripping = serve_console(embedded, embedded.deploy(FailureThreshold="1"))
    try:
        provider.configure(mode="down")
        result = tripping.run(order())
        definition = json.loads(
            embedded.client("stepfunctions").describe_state_machine_for_execution(executionArn=result.arn)["definition"]
        )
        # when
        browser.get(execution_page(tripping, result.arn))
        wait_until(browser, lambda d: css(d, "#graph").get_attribute("data-layout") == "elk")
        # then: every state a box, no two boxes overlapping, no edge through a box
        found = browser.execute_script(CROSSINGS)
        assert found["boxes"] == len(definition["States"])
        assert found["paths"] > found["boxes"]
        assert found["overlaps"] == []
        assert found["crossings"] == []
        # the graph fits the page's width (no horizontal scrolling), and zooms
        frame_width = browser.execute_script("return document.getElementById('graph-frame').clientWidth;")
        width = float(css(browser, "#graph").get_attribute("width"))
        assert width <= frame_width
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth;")
        click(browser, '[data-zoom="in"]')
        wait_until(browser, lambda d: float(css(d, "#graph").get_attribute("width")) > width)
        click(browser, '[data-zoom="fit"]')
        wait_until(browser, lambda d: float(css(d, "#graph").get_attribute("width")) == width)
        show(browser, "#graph-tools")
        copy_to_docs(screenshot("graph-elk"), "console-graph.png")
    finally:
        server.stop()


def test_the_layout_library_is_served_by_the_console_from_its_pinned_package(console: Console) -> None:
    lock = json.loads((Path(__file__).parents[2] / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/elkjs"]["version"]
    answer = raw_request(console.page("/static/elk.bundled.js"))
    assert answer.status == 200
    assert answer.getheader("Content-Type").startswith("text/javascript")
    package = json.loads((Path(__file__).parents[2] / "node_modules" / "elkjs" / "package.json").read_text())
    assert package["version"] == pinned
    assert len(answer.text) > 100_000
