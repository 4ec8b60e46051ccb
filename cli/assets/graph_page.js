// granule graph page: opens on the entry at a readable zoom; pan and zoom;
// search (zooms to the match, lights its neighbours); modules fold into one
// box and unfold; edges hidden by kind; a legend; a panel listing a
// vertex's edges. The SVG comes from Graphviz; each vertex's and edge's
// group has the id the DOT gave it ("v12", "e40"), the index into the
// embedded JSON, and each module's cluster the title "cluster_<module>".
(function () {
  "use strict";
  // Screen pixels per SVG unit (a point) at which Graphviz's 10-point
  // labels are 14 pixels high: the zoom the page opens at and search
  // zooms to, when the whole graph does not fit at it.
  const READABLE = 1.4;
  // The largest zoom the page opens at: a small graph is not blown up.
  const LARGEST_OPENING = 2;
  // The largest font of a folded module's name: larger fills the screen
  // at a readable zoom.
  const LARGEST_FOLD_LABEL = 48;
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const viewport = document.getElementById("viewport");
  const svg = viewport.querySelector("svg");
  const root = svg.querySelector("g.graph") || svg;
  const panel = document.getElementById("panel");
  const search = document.getElementById("search");
  const status = document.getElementById("search-status");
  const legend = document.getElementById("legend");
  const SVG_NS = "http://www.w3.org/2000/svg";
  const XLINK_NS = "http://www.w3.org/1999/xlink";

  const nodeOf = new Map();
  for (const g of svg.querySelectorAll("g.node")) {
    const match = /^v(\d+)$/.exec(g.id);
    if (match) {
      g.dataset.vertex = match[1];
      nodeOf.set(Number(match[1]), g);
    }
  }
  // Each edge's tooltip says what the panel does, its path relative to
  // the module path (Graphviz's has the path as given).
  const edgeOf = new Map();
  for (const g of svg.querySelectorAll("g.edge")) {
    const match = /^e(\d+)$/.exec(g.id);
    if (!match) continue;
    g.dataset.edge = match[1];
    edgeOf.set(Number(match[1]), g);
    const edge = data.edges[Number(match[1])];
    const tooltip = edge.kind + (edge.written_in ? " (written in " + edge.written_in + ")" : "") +
      " at " + edge.location + (edge.condition ? " if " + edge.condition : "");
    for (const link of g.querySelectorAll("a")) link.setAttributeNS(XLINK_NS, "title", tooltip);
  }

  function titleOf(g) {
    const title = g.querySelector("title");
    return title ? title.textContent.trim() : "";
  }

  // Pan and zoom move the viewBox, kept to the viewport's proportions so
  // that one scale holds both ways; Graphviz's fixed size gives way to the
  // viewport's.
  const whole = svg.viewBox.baseVal;
  const graphBox = { x: whole.x, y: whole.y, w: whole.width, h: whole.height };
  let view = Object.assign({}, graphBox);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  function show() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
  }
  function screen() {
    const box = viewport.getBoundingClientRect();
    return { w: Math.max(box.width, 1), h: Math.max(box.height, 1) };
  }
  function scale() {
    return screen().w / view.w;
  }
  // Shows the point (x, y) at the middle of the viewport, `zoom` screen
  // pixels per unit.
  function look(x, y, zoom) {
    const size = screen();
    view = { x: x - size.w / zoom / 2, y: y - size.h / zoom / 2, w: size.w / zoom, h: size.h / zoom };
    show();
  }
  function toSvg(clientX, clientY) {
    const point = svg.createSVGPoint();
    point.x = clientX;
    point.y = clientY;
    return point.matrixTransform(svg.getScreenCTM().inverse());
  }

  // The opening view: the whole graph if its labels can be read so, else
  // the entry at a readable zoom, moved so that as much of the graph as
  // fits is in view.
  function opening() {
    const size = screen();
    const fit = Math.min(size.w / graphBox.w, size.h / graphBox.h);
    if (fit >= READABLE) {
      look(graphBox.x + graphBox.w / 2, graphBox.y + graphBox.h / 2, Math.min(fit, LARGEST_OPENING));
      return;
    }
    const entry = data.entry === null ? undefined : nodeOf.get(data.entry);
    const box = entry ? boxOf(entry) : { x: graphBox.x, y: graphBox.y, w: 0, h: 0 };
    look(box.x + box.w / 2, box.y + box.h / 2, READABLE);
    // Along an axis where the graph is shorter than the view, it is
    // centered; along the other, the view stays within it.
    const clamp = function (at, length, start, extent) {
      if (length >= extent) return start + (extent - length) / 2;
      return Math.min(Math.max(at, start), start + extent - length);
    };
    view.x = clamp(view.x, view.w, graphBox.x, graphBox.w);
    view.y = clamp(view.y, view.h, graphBox.y, graphBox.h);
    show();
  }

  viewport.addEventListener("wheel", function (event) {
    if (event.target.closest("#legend")) return;
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
    if (event.target.closest("#legend")) return;
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
  window.addEventListener("resize", function () {
    const zoom = scale();
    look(view.x + view.w / 2, view.y + view.h / 2, zoom);
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
  // Centers a vertex, zoomed in until its label can be read; unfolds its
  // module first.
  function center(index) {
    const module = data.vertices[index] && data.vertices[index].module;
    if (modules.has(module)) fold(module, false);
    const g = nodeOf.get(index);
    if (!g) return;
    const box = boxOf(g);
    look(box.x + box.w / 2, box.y + box.h / 2, Math.max(scale(), READABLE));
  }

  // Modules: each cluster folds into one box over it, labelled with the
  // module's name, and unfolds when the box is clicked.
  const modules = new Map();
  for (const g of svg.querySelectorAll("g.cluster")) {
    const match = /^cluster_(.+)$/.exec(titleOf(g));
    if (!match) continue;
    g.dataset.module = match[1];
    modules.set(match[1], { g: g, members: new Set(), cover: null });
  }
  data.vertices.forEach(function (vertex, index) {
    const module = modules.get(vertex.module);
    if (module) module.members.add(index);
  });
  function fold(name, folded) {
    const module = modules.get(name);
    if (!module || Boolean(module.cover) === folded) return;
    for (const index of module.members) {
      const g = nodeOf.get(index);
      if (g) g.classList.toggle("folded", folded);
    }
    data.edges.forEach(function (edge, index) {
      const inside = module.members.has(edge.from) && module.members.has(edge.to);
      if (inside && edgeOf.has(index)) edgeOf.get(index).classList.toggle("folded", folded);
    });
    module.g.classList.toggle("folded", folded);
    if (folded) {
      module.cover = cover(name, module);
      root.appendChild(module.cover);
    } else {
      module.cover.remove();
      module.cover = null;
    }
  }
  // The box a folded module is drawn as, over its cluster (and the edges
  // that end inside it), its name as large as the box allows.
  function cover(name, module) {
    const outline = module.g.querySelector("path, polygon");
    const box = outline.getBBox();
    const g = document.createElementNS(SVG_NS, "g");
    g.setAttribute("class", "fold-cover");
    g.dataset.module = name;
    const rect = document.createElementNS(SVG_NS, "rect");
    for (const [key, value] of [["x", box.x], ["y", box.y], ["width", box.width], ["height", box.height], ["rx", 6]]) {
      rect.setAttribute(key, value);
    }
    const label = document.createElementNS(SVG_NS, "text");
    const words = name + " (" + module.members.size + ")";
    const size = Math.max(10, Math.min(LARGEST_FOLD_LABEL, box.height * 0.6, box.width / (words.length * 0.62)));
    label.setAttribute("x", box.x + box.width / 2);
    label.setAttribute("y", box.y + box.height / 2);
    label.setAttribute("font-size", size);
    label.textContent = words;
    const title = document.createElementNS(SVG_NS, "title");
    title.textContent = "module " + name + ", folded: " + module.members.size + " vertices. Click to unfold.";
    g.append(title, rect, label);
    return g;
  }
  // Folds one module and shows its box whole, zoomed out as far as needed,
  // so that its name is in view.
  function foldAndShow(name) {
    fold(name, true);
    const module = modules.get(name);
    if (!module) return;
    const box = boxOf(module.cover);
    const size = screen();
    const zoom = Math.min(scale(), 0.9 * size.w / box.w, 0.9 * size.h / box.h);
    look(box.x + box.w / 2, box.y + box.h / 2, zoom);
  }
  document.getElementById("fold-all").addEventListener("click", function () {
    for (const name of modules.keys()) fold(name, true);
  });
  document.getElementById("unfold-all").addEventListener("click", function () {
    for (const name of modules.keys()) fold(name, false);
  });

  // Search: every vertex whose label contains the text is highlighted; the
  // first is zoomed to with its neighbours lit, Enter goes to the next and
  // lists its edges.
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
    if (current >= 0) {
      center(matches[current]);
      light(matches[current]);
    }
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

  // A vertex lit: its edges and the vertices at their other ends.
  function light(index) {
    for (const g of svg.querySelectorAll(".selected, .active, .neighbour")) {
      g.classList.remove("selected", "active", "neighbour");
    }
    const g = nodeOf.get(index);
    if (g) g.classList.add("selected");
    data.edges.forEach(function (edge, at) {
      if (edge.from !== index && edge.to !== index) return;
      if (edgeOf.has(at)) edgeOf.get(at).classList.add("active");
      const other = nodeOf.get(edge.from === index ? edge.to : edge.from);
      if (other) other.classList.add("neighbour");
    });
  }

  svg.addEventListener("click", function (event) {
    if (drag && drag.moved) return;
    const folded = event.target.closest("g.fold-cover");
    if (folded) {
      fold(folded.dataset.module, false);
      return;
    }
    const cluster = event.target.closest("g.cluster");
    if (cluster && event.target.tagName === "text") {
      foldAndShow(cluster.dataset.module);
      return;
    }
    const g = event.target.closest("g.node");
    if (g && g.dataset.vertex !== undefined) select(Number(g.dataset.vertex));
  });
  panel.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-fold]");
    if (button) {
      foldAndShow(button.dataset.fold);
      return;
    }
    const link = event.target.closest("a[data-vertex]");
    if (!link) return;
    event.preventDefault();
    const index = Number(link.dataset.vertex);
    center(index);
    select(index);
  });

  // Selection: the vertex lit, its edges listed.
  function select(index) {
    light(index);
    const vertex = data.vertices[index];
    const outgoing = data.edges.filter(function (edge) { return edge.from === index; });
    const incoming = data.edges.filter(function (edge) { return edge.to === index; });
    const module = vertex.module
      ? [element("p", {}, ["module " + vertex.module + " "].concat(modules.has(vertex.module)
        ? [element("button", { type: "button", "data-fold": vertex.module }, ["Fold module " + vertex.module])]
        : []))]
      : [element("p", {}, ["outside any module"])];
    panel.replaceChildren.apply(panel, [element("h2", {}, [vertex.label])].concat(module, [
      table("Out (" + outgoing.length + ")", "to", outgoing, "to", "out"),
      table("In (" + incoming.length + ")", "from", incoming, "from", "in"),
    ]));
  }

  function table(heading, otherName, edges, otherKey, direction) {
    const rows = edges.map(function (edge) {
      const other = edge[otherKey];
      const flags = [edge.in_cycle ? "on a cycle" : "", edge.cross_module ? "cross-module" : "",
        edge.written_in ? "written in " + edge.written_in : "",
        edge.resolved ? "" : "defined nowhere"].filter(Boolean).join(", ");
      const where = edge.location + (edge.sites > 1 ? " (and " + (edge.sites - 1) + " more)" : "");
      return element("tr", { "data-direction": direction }, [
        element("td", { class: "kind" }, [edge.kind + (flags ? " (" + flags + ")" : "")]),
        element("td", { class: "other" }, [element("a", { "data-vertex": String(other) }, [data.vertices[other].label])]),
        element("td", { class: "condition" }, [edge.condition ? "if " + edge.condition : ""]),
        element("td", { class: "where" }, [where]),
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

  // The legend: what each colour and line means, and a box per edge kind
  // that hides that kind's edges when unticked (an edge standing for
  // several kinds, at the module level, hides when all of them are).
  const swatches = {
    cycle: '<line x1="2" y1="7" x2="30" y2="7" stroke="red" stroke-width="2"/>',
    cross_module: '<line x1="2" y1="7" x2="30" y2="7" stroke="blue" stroke-width="1.5"/>',
    written_elsewhere: '<line x1="2" y1="7" x2="30" y2="7" stroke="#ee7600" stroke-width="1"/>',
    conditional: '<line x1="2" y1="7" x2="22" y2="7" stroke="black"/><polygon points="22,3 30,7 22,11" fill="white" stroke="black"/>',
    refreshes: '<line x1="2" y1="7" x2="30" y2="7" stroke="black" stroke-width="2.5"/>',
    defined_nowhere: '<rect x="2" y="2" width="28" height="10" rx="3" fill="none" stroke="#666" stroke-dasharray="4,2"/>',
  };
  const hiddenKinds = new Set();
  function filter() {
    data.edges.forEach(function (edge, index) {
      const g = edgeOf.get(index);
      if (g) g.classList.toggle("filtered", edge.kinds.every(function (kind) { return hiddenKinds.has(kind); }));
    });
  }
  function buildLegend() {
    const counts = new Map();
    for (const edge of data.edges) {
      for (const kind of edge.kinds) counts.set(kind, (counts.get(kind) || 0) + 1);
    }
    const styles = data.legend.map(function (entry) {
      const swatch = document.createElementNS(SVG_NS, "svg");
      swatch.setAttribute("width", "32");
      swatch.setAttribute("height", "14");
      swatch.innerHTML = swatches[entry.key] || "";
      return element("li", { "data-style": entry.key }, [swatch, " " + entry.look + ": " + entry.meaning]);
    });
    const kinds = Array.from(counts.keys()).sort().map(function (kind) {
      const box = element("input", { type: "checkbox", "data-kind": kind }, []);
      box.checked = true;
      box.addEventListener("change", function () {
        if (box.checked) hiddenKinds.delete(kind);
        else hiddenKinds.add(kind);
        filter();
      });
      return element("li", {}, [element("label", {}, [box, " " + kind + " (" + counts.get(kind) + ")"])]);
    });
    const details = element("details", { open: "" }, [
      element("summary", {}, ["Legend"]),
      element("ul", { class: "styles" }, styles.length ? styles : [element("li", {}, ["plain black edges: within one module, unconditional"])]),
      element("p", { class: "kinds-heading" }, ["Edge kinds shown:"]),
      element("ul", { class: "kinds" }, kinds),
    ]);
    legend.replaceChildren(details);
  }

  buildLegend();
  opening();
})();
