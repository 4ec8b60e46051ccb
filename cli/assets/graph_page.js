// granule graph page: pan and zoom, search, a panel listing a vertex's
// edges. The SVG comes from Graphviz; each node's and edge's <title> is its
// DOT name ("v12", "v3->v12"), the index into the embedded JSON.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const viewport = document.getElementById("viewport");
  const svg = viewport.querySelector("svg");
  const panel = document.getElementById("panel");
  const search = document.getElementById("search");
  const status = document.getElementById("search-status");

  const nodeOf = new Map();
  for (const g of svg.querySelectorAll("g.node")) {
    const match = /^v(\d+)$/.exec(titleOf(g));
    if (match) {
      g.id = "v" + match[1];
      g.dataset.vertex = match[1];
      nodeOf.set(Number(match[1]), g);
    }
  }
  const edgeElements = [];
  for (const g of svg.querySelectorAll("g.edge")) {
    const match = /^v(\d+)->v(\d+)$/.exec(titleOf(g));
    if (match) edgeElements.push({ from: Number(match[1]), to: Number(match[2]), g: g });
  }

  function titleOf(g) {
    const title = g.querySelector("title");
    return title ? title.textContent.trim() : "";
  }

  // Pan and zoom move the viewBox; Graphviz's fixed size gives way to the
  // viewport's.
  const initial = svg.viewBox.baseVal;
  let view = { x: initial.x, y: initial.y, w: initial.width, h: initial.height };
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  function show() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
  }
  function toSvg(clientX, clientY) {
    const point = svg.createSVGPoint();
    point.x = clientX;
    point.y = clientY;
    return point.matrixTransform(svg.getScreenCTM().inverse());
  }
  viewport.addEventListener("wheel", function (event) {
    event.preventDefault();
    const at = toSvg(event.clientX, event.clientY);
    const factor = Math.exp(event.deltaY * 0.0015);
    view = {
      x: at.x - (at.x - view.x) * factor,
      y: at.y - (at.y - view.y) * factor,
      w: view.w * factor,
      h: view.h * factor,
    };
    show();
  }, { passive: false });

  let drag = null;
  viewport.addEventListener("pointerdown", function (event) {
    drag = { x: event.clientX, y: event.clientY, view: view, scale: svg.getScreenCTM().a, moved: false };
  });
  window.addEventListener("pointermove", function (event) {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) {
      drag.moved = true;
      viewport.classList.add("dragging");
    }
    if (drag.moved) {
      view = Object.assign({}, drag.view, { x: drag.view.x - dx / drag.scale, y: drag.view.y - dy / drag.scale });
      show();
    }
  });
  window.addEventListener("pointerup", function () {
    viewport.classList.remove("dragging");
    setTimeout(function () { drag = null; }, 0);
  });

  // The box of an element in the root's coordinates.
  function boxOf(element) {
    const box = element.getBBox();
    const matrix = svg.getScreenCTM().inverse().multiply(element.getScreenCTM());
    const corner = function (x, y) {
      const point = svg.createSVGPoint();
      point.x = x;
      point.y = y;
      return point.matrixTransform(matrix);
    };
    const a = corner(box.x, box.y);
    const b = corner(box.x + box.width, box.y + box.height);
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(b.x - a.x), h: Math.abs(b.y - a.y) };
  }
  function center(index) {
    const g = nodeOf.get(index);
    if (!g) return;
    const box = boxOf(g);
    const zoom = Math.max(1, (box.w * 4) / view.w, (box.h * 4) / view.h);
    const w = view.w * zoom;
    const h = view.h * zoom;
    view = { x: box.x + box.w / 2 - w / 2, y: box.y + box.h / 2 - h / 2, w: w, h: h };
    show();
  }

  // Search: every vertex whose label contains the text is highlighted; the
  // first is centered, Enter goes to the next and lists its edges.
  let matches = [];
  let current = -1;
  search.addEventListener("input", function () {
    for (const g of svg.querySelectorAll("g.node.match")) g.classList.remove("match");
    const text = search.value.trim().toLowerCase();
    matches = text === "" ? [] : data.vertices
      .map(function (vertex, index) { return vertex.label.toLowerCase().includes(text) ? index : -1; })
      .filter(function (index) { return index >= 0 && nodeOf.has(index); });
    for (const index of matches) nodeOf.get(index).classList.add("match");
    current = matches.length ? 0 : -1;
    report();
    if (current >= 0) center(matches[current]);
  });
  search.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !matches.length) return;
    event.preventDefault();
    current = (current + 1) % matches.length;
    report();
    center(matches[current]);
    select(matches[current]);
  });
  function report() {
    if (search.value.trim() === "") status.textContent = "";
    else if (!matches.length) status.textContent = "no vertex matches";
    else status.textContent = (current + 1) + " of " + matches.length;
  }

  // Selection: the vertex, its edges highlighted and listed.
  svg.addEventListener("click", function (event) {
    if (drag && drag.moved) return;
    const g = event.target.closest("g.node");
    if (g && g.dataset.vertex !== undefined) select(Number(g.dataset.vertex));
  });
  panel.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-vertex]");
    if (!link) return;
    event.preventDefault();
    const index = Number(link.dataset.vertex);
    center(index);
    select(index);
  });

  function select(index) {
    for (const g of svg.querySelectorAll(".selected, .active")) g.classList.remove("selected", "active");
    const g = nodeOf.get(index);
    if (g) g.classList.add("selected");
    for (const edge of edgeElements) {
      if (edge.from === index || edge.to === index) edge.g.classList.add("active");
    }
    const vertex = data.vertices[index];
    const outgoing = data.edges.filter(function (edge) { return edge.from === index; });
    const incoming = data.edges.filter(function (edge) { return edge.to === index; });
    panel.replaceChildren(
      element("h2", {}, [vertex.label]),
      element("p", {}, [vertex.module ? "module " + vertex.module : "outside any module"]),
      table("Out (" + outgoing.length + ")", "to", outgoing, "to", "out"),
      table("In (" + incoming.length + ")", "from", incoming, "from", "in"),
    );
  }

  function table(heading, otherName, edges, otherKey, direction) {
    const rows = edges.map(function (edge) {
      const other = edge[otherKey];
      const flags = [edge.in_cycle ? "on a cycle" : "", edge.cross_module ? "cross-module" : "",
        edge.resolved ? "" : "defined nowhere"].filter(Boolean).join(", ");
      return element("tr", { "data-direction": direction }, [
        element("td", { class: "kind" }, [edge.kind + (flags ? " (" + flags + ")" : "")]),
        element("td", { class: "other" }, [element("a", { "data-vertex": String(other) }, [data.vertices[other].label])]),
        element("td", { class: "condition" }, [edge.condition ? "if " + edge.condition : ""]),
        element("td", { class: "where" }, [edge.location]),
      ]);
    });
    const head = element("tr", {}, ["kind", otherName, "condition", "file:line"].map(function (name) {
      return element("th", {}, [name]);
    }));
    return element("section", {}, [element("h3", {}, [heading]), element("table", { class: "edges" }, [head].concat(rows))]);
  }

  function element(name, attributes, children) {
    const node = document.createElement(name);
    for (const key of Object.keys(attributes)) node.setAttribute(key, attributes[key]);
    node.append.apply(node, children);
    return node;
  }
})();
