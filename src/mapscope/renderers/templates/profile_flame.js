// The flame graph of a mapscope profile page. The tree comes precomputed (analyses/flame.py) in the
// #flame-data JSON block; this script only lays it out. Every name is set with textContent or as a
// property, never parsed as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("flame-data").textContent);
  var ROW = 17;
  var MIN_WIDTH = 1; // frames narrower than this many pixels are not drawn, nor what they called
  var LABEL_WIDTH = 28;
  var count = data.parent.length;
  var shown = data.values.length - 1; // widths come from the last profile: NEW in a diff
  var diff = data.values.length === 2;
  var children = [];
  var depth = new Int32Array(count);
  var lowered = [];
  var i;
  for (i = 0; i < count; i++) {
    children.push([]);
    lowered.push(label(i).toLowerCase());
  }
  for (i = 1; i < count; i++) {
    children[data.parent[i]].push(i);
    depth[i] = depth[data.parent[i]] + 1;
  }

  var flame = document.getElementById("flame");
  var select = document.getElementById("sample-type");
  var search = document.getElementById("search");
  var totalText = document.getElementById("total");
  var matchedText = document.getElementById("matched");
  var detail = document.getElementById("detail");
  var state = { type: data.defaultType, zoom: 0, term: "" };
  var biggestChange = 0;

  function label(node) {
    return node === 0 ? "all" : data.names[data.name[node]];
  }

  function value(profile, node) {
    return data.values[profile][state.type][node];
  }

  function total(profile) {
    return data.totals[profile][state.type];
  }

  function format(amount) {
    var unit = data.types[state.type].unit;
    var magnitude = Math.abs(amount);
    if (unit === "bytes") {
      var scales = [["GiB", 1073741824], ["MiB", 1048576], ["KiB", 1024]];
      for (var k = 0; k < scales.length; k++) {
        if (magnitude >= scales[k][1]) {
          return (amount / scales[k][1]).toFixed(2) + " " + scales[k][0];
        }
      }
      return amount + " B";
    }
    if (unit === "nanoseconds") {
      return magnitude >= 1e7 ? (amount / 1e9).toFixed(2) + "s" : (amount / 1e6).toFixed(2) + "ms";
    }
    return amount.toLocaleString("en-US") + (unit && unit !== "count" ? " " + unit : "");
  }

  function percent(part, whole) {
    return whole ? (100 * part / whole).toFixed(1) + "%" : "-";
  }

  function change(node) {
    var before = total(0) ? value(0, node) / total(0) : 0;
    var after = total(1) ? value(1, node) / total(1) : 0;
    return after - before;
  }

  function hue(text) {
    var hash = 0;
    for (var k = 0; k < text.length; k++) {
      hash = (hash * 31 + text.charCodeAt(k)) | 0;
    }
    return Math.abs(hash);
  }

  function colour(node) {
    if (diff) {
      var delta = change(node);
      var strength = biggestChange ? Math.min(1, Math.abs(delta) / biggestChange) : 0;
      if (strength < 0.02) {
        return "#e9e9ee";
      }
      return "hsl(" + (delta > 0 ? 0 : 215) + ", 80%, " + (94 - 32 * strength).toFixed(1) + "%)";
    }
    if (data.cause[node] >= 0) {
      return data.causeColours[data.cause[node]];
    }
    var name = label(node);
    if (name.indexOf("runtime.") === 0 || name.indexOf("internal/") === 0) {
      return "hsl(210, 18%, " + (78 + (hue(name) % 10)) + "%)";
    }
    var h = hue(name);
    return "hsl(" + (18 + (h % 34)) + ", " + (70 + (h % 20)) + "%, " + (62 + ((h >> 5) % 14)) + "%)";
  }

  function describe(node) {
    var text = label(node) + " — " + format(value(shown, node)) + " (" + percent(value(shown, node), total(shown)) + ")";
    if (diff) {
      text += "; base " + format(value(0, node)) + " (" + percent(value(0, node), total(0)) + ")";
    }
    if (data.cause[node] >= 0) {
      text += "; map cause: " + data.causes[data.cause[node]];
    }
    return text;
  }

  function matches(node) {
    return state.term !== "" && lowered[node].indexOf(state.term) !== -1;
  }

  function frame(parent, node, x, width, row, ancestor) {
    var element = document.createElement("div");
    element.className = "frame" + (ancestor ? " ancestor" : "") + (data.cause[node] >= 0 ? " cause" : "") + (matches(node) ? " match" : "");
    element.dataset.node = String(node);
    element.style.left = x + "px";
    element.style.width = width + "px";
    element.style.top = row * ROW + "px";
    element.style.backgroundColor = colour(node);
    element.title = describe(node);
    if (width >= LABEL_WIDTH) {
      element.textContent = label(node);
    }
    parent.appendChild(element);
  }

  function render() {
    var width = flame.clientWidth;
    var fragment = document.createDocumentFragment();
    var chain = [];
    for (var a = state.zoom; a !== -1; a = data.parent[a]) {
      chain.unshift(a);
    }
    chain.forEach(function (node, row) {
      frame(fragment, node, 0, width, row, node !== state.zoom);
    });
    var top = chain.length - 1;
    var rows = chain.length;
    var scale = width / Math.max(value(shown, state.zoom), 1);
    var pending = [[state.zoom, 0]];
    while (pending.length) {
      var item = pending.pop();
      var x = item[1];
      var kids = children[item[0]];
      for (var k = 0; k < kids.length; k++) {
        var w = value(shown, kids[k]) * scale;
        if (w >= MIN_WIDTH) {
          var row = depth[kids[k]] - depth[state.zoom] + top;
          frame(fragment, kids[k], x, w, row, false);
          rows = Math.max(rows, row + 1);
          pending.push([kids[k], x]);
        }
        x += w;
      }
    }
    flame.style.height = rows * ROW + "px";
    flame.replaceChildren(fragment);
  }

  function summarize() {
    totalText.textContent = "Total " + data.types[state.type].type + ": " + format(total(shown)) + (diff ? " (base " + format(total(0)) + ")" : "");
    document.querySelectorAll("#legend [data-cause]").forEach(function (entry) {
      var cause = Number(entry.dataset.cause);
      var after = data.causeTotals[shown][state.type][cause];
      var text = format(after) + " (" + percent(after, total(shown)) + ")";
      if (diff) {
        text = format(data.causeTotals[0][state.type][cause]) + " → " + text;
      }
      entry.querySelector(".cause-value").textContent = text;
    });
    if (diff) {
      biggestChange = 0;
      for (var node = 1; node < count; node++) {
        biggestChange = Math.max(biggestChange, Math.abs(change(node)));
      }
    }
  }

  function summarizeMatches() {
    if (state.term === "") {
      matchedText.textContent = "";
      return;
    }
    var frames = 0;
    var amount = 0;
    var inside = new Uint8Array(count); // a matching frame at or above this node
    for (var node = 1; node < count; node++) {
      var hit = matches(node);
      if (hit) {
        frames++;
        if (!inside[data.parent[node]]) {
          amount += value(shown, node);
        }
      }
      inside[node] = hit || inside[data.parent[node]] ? 1 : 0;
    }
    matchedText.textContent = frames + " frames match: " + format(amount) + " (" + percent(amount, total(shown)) + ")";
  }

  flame.addEventListener("click", function (event) {
    var element = event.target.closest(".frame");
    if (element) {
      state.zoom = Number(element.dataset.node);
      render();
    }
  });
  flame.addEventListener("mouseover", function (event) {
    var element = event.target.closest(".frame");
    detail.textContent = element ? describe(Number(element.dataset.node)) : "";
  });
  search.addEventListener("input", function () {
    state.term = search.value.trim().toLowerCase();
    summarizeMatches();
    render();
  });
  select.addEventListener("change", function () {
    state.type = Number(select.value);
    summarize();
    summarizeMatches();
    render();
  });
  document.getElementById("reset").addEventListener("click", function () {
    state.zoom = 0;
    render();
  });
  window.addEventListener("resize", render);
  summarize();
  render();
})();
