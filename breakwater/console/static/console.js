// Breakwater console: live parts of a page, countdowns, confirmations and opening event rows.
// Served by the console itself; the page's Content-Security-Policy allows no other script.
"use strict";

(function () {
  // Names the server hands over on <body> (breakwater/console/app.py defines them).
  const settings = document.body.dataset;
  const opened = new Set();
  const shown = new WeakMap();
  // The server's clock (the breaker record's times are its times) minus this browser's.
  let clockOffset = Number(settings.nowMs) - Date.now();

  function countdowns() {
    const now = Date.now() + clockOffset;
    for (const element of document.querySelectorAll("[data-until-ms]")) {
      const left = (Number(element.dataset.untilMs) - now) / 1000;
      element.textContent = left > 0 ? "(in " + left.toFixed(1) + " s)" : "(passed)";
    }
  }

  function reopen(root) {
    for (const id of opened) {
      const row = document.getElementById(id);
      const button = root.querySelector('[data-toggle="' + id + '"]');
      if (row && button) {
        row.hidden = false;
        button.setAttribute("aria-expanded", "true");
      }
    }
  }

  function fragmentUrl() {
    const url = new URL(window.location.href);
    url.searchParams.delete(settings.flashParameter);
    url.searchParams.set(settings.fragmentParameter, "1");
    return url.toString();
  }

  function refresh(element, delay) {
    window.setTimeout(function () {
      fetch(fragmentUrl(), { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          const now = Number(response.headers.get(settings.nowHeader));
          if (now) {
            clockOffset = now - Date.now();
          }
          const next = Number(response.headers.get(settings.refreshHeader) || 0);
          return response.text().then(function (html) {
            // The fragment is the server's own escaped HTML. Compare it as this browser serialises it
            // with what was last shown (before any script touched it), and replace only what changed.
            const probe = document.createElement("template"); // inert: nothing in it loads or runs
            probe.innerHTML = html;
            element.classList.remove("stale");
            if (probe.innerHTML !== shown.get(element)) {
              shown.set(element, probe.innerHTML);
              element.innerHTML = html;
              reopen(element);
              countdowns();
              enhance(element);
            }
            if (next > 0) {
              refresh(element, next);
            }
          });
        })
        .catch(function () {
          element.classList.add("stale");
          refresh(element, delay * 2);
        });
    }, delay);
  }

  // Clicking a state in the graph shows its input, output and duration (the panel under the graph).
  function showState(group) {
    const id = group.dataset.detail;
    for (const detail of document.querySelectorAll("[data-state-detail]")) {
      detail.hidden = detail.id !== id;
    }
    for (const other of document.querySelectorAll("svg.graph g.state.selected")) {
      other.classList.remove("selected");
    }
    group.classList.add("selected");
    const hint = document.getElementById("state-details-hint");
    if (hint) {
      hint.hidden = true;
    }
    selected = id;
  }
  let selected = null;

  document.addEventListener("click", function (event) {
    const state = event.target.closest && event.target.closest("svg.graph g.state");
    if (state && !dragged) {
      showState(state);
      return;
    }
    const zoom = event.target.closest && event.target.closest("[data-zoom]");
    if (zoom) {
      zoomGraph(zoom.dataset.zoom);
      return;
    }
    const button = event.target.closest("[data-toggle]");
    if (!button) {
      return;
    }
    const id = button.dataset.toggle;
    const row = document.getElementById(id);
    if (!row) {
      return;
    }
    row.hidden = !row.hidden;
    button.setAttribute("aria-expanded", String(!row.hidden));
    if (row.hidden) {
      opened.delete(id);
    } else {
      opened.add(id);
    }
  });

  // The input editor: JSON is checked as it is typed; the form cannot be sent with input that is not JSON.
  function checkJson(editor) {
    const form = editor.form;
    const check = form.querySelector("[data-json-check]");
    const submit = form.querySelector('button[type="submit"]');
    let problem = null;
    try {
      JSON.parse(editor.value);
    } catch (error) {
      problem = error.message;
    }
    editor.setCustomValidity(problem ? "The input is not JSON" : "");
    if (check) {
      check.textContent = problem ? "Not JSON: " + problem : "Valid JSON.";
      check.classList.toggle("error", Boolean(problem));
    }
    if (submit && !submit.hasAttribute("data-read-only")) {
      submit.disabled = Boolean(problem);
    }
    return !problem;
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-json-editor]")) {
      checkJson(event.target);
    }
  });

  document.addEventListener(
    "submit",
    function (event) {
      const editor = event.target.querySelector("[data-json-editor]");
      if (editor && !checkJson(editor)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  document.addEventListener("submit", function (event) {
    const form = event.target;
    const question = form.dataset.confirm;
    if (!question) {
      return;
    }
    if (!window.confirm(question)) {
      event.preventDefault();
      return;
    }
    const confirmed = form.querySelector("input[data-confirmed]");
    if (confirmed) {
      confirmed.value = "yes";
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) {
      event.target.form.submit();
    }
  });

  // -- the graph: laid out by ELK (npm elkjs, served by the console), zoomed and panned --------------------

  let scale = null; // null: fit the frame's width
  let dragged = false;
  let elkLoading = null;

  function loadElk(src) {
    if (window.ELK) {
      return Promise.resolve(window.ELK);
    }
    if (!elkLoading) {
      elkLoading = new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = src;
        script.onload = function () {
          resolve(window.ELK);
        };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return elkLoading;
  }

  const ELK_OPTIONS = {
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.edgeRouting": "ORTHOGONAL",
    "elk.layered.spacing.nodeNodeBetweenLayers": "36",
    "elk.spacing.nodeNode": "28",
    "elk.layered.spacing.edgeNodeBetweenLayers": "16",
    "elk.spacing.edgeNode": "14",
    "elk.spacing.edgeEdge": "8",
    "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
    "elk.layered.crossingMinimization.semiInteractive": "false",
    "elk.padding": "[top=16,left=16,bottom=16,right=16]",
  };

  function layoutGraph(svg) {
    const groups = Array.from(svg.querySelectorAll("g.state"));
    const paths = Array.from(svg.querySelectorAll("path.transition"));
    const graph = {
      id: "root",
      layoutOptions: ELK_OPTIONS,
      children: groups.map(function (group) {
        return { id: group.dataset.state, width: Number(group.dataset.width), height: Number(group.dataset.height) };
      }),
      edges: paths.map(function (path, index) {
        return { id: "e" + index, sources: [path.dataset.source], targets: [path.dataset.target] };
      }),
    };
    return loadElk(svg.dataset.elkSrc)
      .then(function (ELK) {
        return new ELK().layout(graph);
      })
      .then(function (laid) {
        const byId = new Map(laid.children.map(function (node) { return [node.id, node]; }));
        for (const group of groups) {
          const node = byId.get(group.dataset.state);
          const rect = group.querySelector("rect");
          const dx = node.x - Number(rect.getAttribute("x"));
          const dy = node.y - Number(rect.getAttribute("y"));
          rect.setAttribute("x", node.x.toFixed(1));
          rect.setAttribute("y", node.y.toFixed(1));
          for (const text of group.querySelectorAll("text")) {
            text.setAttribute("x", (Number(text.getAttribute("x")) + dx).toFixed(1));
            text.setAttribute("y", (Number(text.getAttribute("y")) + dy).toFixed(1));
          }
        }
        laid.edges.forEach(function (edge, index) {
          const points = [];
          for (const section of edge.sections || []) {
            points.push(section.startPoint, ...(section.bendPoints || []), section.endPoint);
          }
          if (points.length) {
            paths[index].setAttribute(
              "d",
              points
                .map(function (p, i) { return (i ? "L " : "M ") + p.x.toFixed(1) + " " + p.y.toFixed(1); })
                .join(" ")
            );
          }
        });
        svg.setAttribute("viewBox", "0 0 " + laid.width.toFixed(1) + " " + laid.height.toFixed(1));
        svg.dataset.naturalWidth = String(laid.width);
        svg.dataset.layout = "elk";
        applyZoom(svg);
      })
      .catch(function () {
        const note = document.getElementById("graph-layout-note");
        if (note) {
          note.textContent = "The layout library (npm elkjs) is not installed here: the simpler layout is shown.";
        }
        svg.dataset.layout = "server";
      });
  }

  function applyZoom(svg) {
    const frame = svg.closest(".graph-frame");
    const viewBox = svg.viewBox.baseVal;
    const natural = Number(svg.dataset.naturalWidth || viewBox.width);
    const fit = frame ? Math.min(1, (frame.clientWidth - 4) / natural) : 1;
    const factor = scale === null ? fit : scale;
    svg.setAttribute("width", (natural * factor).toFixed(0));
    svg.setAttribute("height", ((viewBox.height * natural * factor) / viewBox.width).toFixed(0));
    svg.dataset.scale = factor.toFixed(3);
  }

  function zoomGraph(how) {
    const svg = document.getElementById("graph");
    if (!svg) {
      return;
    }
    const current = Number(svg.dataset.scale || 1);
    scale = how === "fit" ? null : Math.max(0.2, Math.min(4, current * (how === "in" ? 1.25 : 0.8)));
    applyZoom(svg);
  }

  function enhance(root) {
    const svg = root.querySelector("svg.graph");
    if (svg) {
      layoutGraph(svg);
      const detail = selected && document.getElementById(selected);
      const group = detail && root.querySelector('g.state[data-detail="' + selected + '"]');
      if (group) {
        showState(group);
      }
    }
    for (const editor of root.querySelectorAll("[data-json-editor]")) {
      checkJson(editor);
    }
  }

  // Drag the graph's frame to pan; Ctrl+wheel zooms.
  let drag = null;
  document.addEventListener("mousedown", function (event) {
    const frame = event.target.closest && event.target.closest(".graph-frame");
    if (frame && event.button === 0) {
      drag = { frame: frame, x: event.clientX, y: event.clientY, left: frame.scrollLeft, top: frame.scrollTop };
      dragged = false;
    }
  });
  document.addEventListener("mousemove", function (event) {
    if (drag) {
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      dragged = dragged || Math.abs(dx) + Math.abs(dy) > 4;
      drag.frame.scrollLeft = drag.left - dx;
      drag.frame.scrollTop = drag.top - dy;
    }
  });
  document.addEventListener("mouseup", function () {
    drag = null;
    window.setTimeout(function () { dragged = false; }, 0);
  });
  document.addEventListener(
    "wheel",
    function (event) {
      if (event.ctrlKey && event.target.closest && event.target.closest(".graph-frame")) {
        event.preventDefault();
        zoomGraph(event.deltaY < 0 ? "in" : "out");
      }
    },
    { passive: false }
  );
  window.addEventListener("resize", function () {
    const svg = document.getElementById("graph");
    if (svg && scale === null) {
      applyZoom(svg);
    }
  });

  const live = document.querySelector("[data-live]");
  const every = Number(settings.refreshMs || 0);
  if (live && every > 0) {
    shown.set(live, live.innerHTML);
    refresh(live, every);
  }
  enhance(document);
  countdowns();
  window.setInterval(countdowns, 250);
})();
