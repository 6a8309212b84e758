// niangjia statistics: charts and maps over the figures the page already shows as tables.
//
// The page embeds its figures as JSON (<script type="application/json" id="stats-data">, built
// by niangjia/stats/dashboard.py); every number is also in a table, so the page is complete
// without this file. Here ECharts (served by the app itself: static/vendor/echarts) draws:
//   - [data-chart="trend"]: the trend of the chosen indicators over recent periods;
//   - [data-chart="breakdown"][data-code=…]: one breakdown (bars, or a ring when few items);
//   - [data-chart="map"]: the node's map (China by province, a province by prefecture, a
//     prefecture by county), coloured by one indicator; a click on a region opens that
//     region's union (drill-down), as a click in the child list does.
// The big screen ([data-screen]) fetches the same JSON from data-source every data-refresh
// seconds and updates the numbers and charts in place (setOption: no reload, no flicker).
(function () {
  "use strict";

  var DARK = document.body.hasAttribute("data-screen");
  var TEXT = DARK ? "#e6edf7" : "#1f2328";
  var MUTED = DARK ? "#8fa3bf" : "#5f6670";
  var LINE = DARK ? "#2a3a55" : "#d9dde3";
  var PALETTE = DARK
    ? ["#4fc3f7", "#ffb74d", "#81c784", "#f06292", "#ba68c8", "#fff176", "#4db6ac", "#e57373"]
    : ["#c8102e", "#0b57b0", "#1a7f37", "#9a6700", "#6e40c9", "#d4580a", "#0a7f8a", "#5f6670"];
  var MAP_COLOURS = DARK ? ["#16324f", "#1f6fb2", "#4fc3f7", "#e0f7ff"] : ["#fdecec", "#f4a3a8", "#d9363e", "#8c0a1f"];

  var charts = {}; // key -> echarts instance
  var geoLoaded = {}; // map name -> true once registered
  var state = null; // the payload last drawn

  function readPayload() {
    var node = document.getElementById("stats-data");
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  }

  function number(value) {
    if (value === null || value === undefined) return "—";
    return Number(value).toLocaleString("zh-CN");
  }

  function chartFor(key, el) {
    var chart = charts[key];
    if (chart && chart.getDom() === el) return chart;
    el.classList.add("has-chart");
    chart = window.echarts.init(el, null, { renderer: "canvas" });
    charts[key] = chart;
    return chart;
  }

  function axisStyle() {
    return {
      axisLine: { lineStyle: { color: LINE } },
      axisLabel: { color: MUTED },
      splitLine: { lineStyle: { color: LINE } },
    };
  }

  // --- Trend: one line per indicator over the recent periods.
  function drawTrend(el, trend) {
    if (!trend || !trend.labels || !trend.labels.length) return;
    var chart = chartFor("trend", el);
    var axis = axisStyle();
    // Stocks (members) and flows (joins, leavings) differ by orders of magnitude: stocks on
    // the left axis, flows on the right, when both are drawn.
    var kinds = {};
    trend.series.forEach(function (s) {
      kinds[s.kind === "stock" ? "stock" : "flow"] = true;
    });
    var twoAxes = kinds.stock && kinds.flow;
    var yAxes = [Object.assign({ type: "value", minInterval: 1, scale: true }, axis)];
    if (twoAxes) {
      yAxes[0].name = "时点数";
      yAxes.push(
        Object.assign({ type: "value", minInterval: 1, name: "时期数", splitLine: { show: false } }, {
          axisLine: axis.axisLine,
          axisLabel: axis.axisLabel,
        })
      );
      yAxes.forEach(function (y) {
        y.nameTextStyle = { color: MUTED };
      });
    }
    chart.setOption(
      {
        color: PALETTE,
        textStyle: { color: TEXT },
        tooltip: { trigger: "axis" },
        legend: { top: 0, textStyle: { color: TEXT }, type: "scroll" },
        grid: { left: 48, right: twoAxes ? 48 : 24, top: twoAxes ? 56 : 40, bottom: 32 },
        xAxis: Object.assign({ type: "category", data: trend.labels, boundaryGap: false }, axis),
        yAxis: yAxes,
        series: trend.series.map(function (s) {
          return {
            id: s.code,
            name: s.name,
            type: s.kind === "stock" ? "line" : "bar",
            smooth: true,
            symbolSize: 6,
            yAxisIndex: twoAxes && s.kind !== "stock" ? 1 : 0,
            data: s.values,
          };
        }),
      },
      // Merged by series id: a refresh moves the lines and bars, it does not redraw them.
      { notMerge: false }
    );
  }

  // --- A breakdown: bars, or a ring for a handful of parts.
  function drawBreakdown(el, breakdown) {
    if (!breakdown) return;
    var items = breakdown.items.filter(function (i) {
      return i.value;
    });
    var chart = chartFor("breakdown-" + breakdown.code, el);
    var option;
    if (!items.length) {
      chart.clear();
      el.setAttribute("data-shape", "empty");
      chart.setOption({
        title: { text: "暂无数据", left: "center", top: "middle", textStyle: { color: MUTED, fontSize: 14 } },
      });
      return;
    }
    if (items.length <= 6) {
      option = {
        color: PALETTE,
        textStyle: { color: TEXT },
        tooltip: { trigger: "item", formatter: "{b}：{c}" + breakdown.unit + "（{d}%）" },
        legend: { bottom: 0, textStyle: { color: TEXT }, type: "scroll" },
        series: [
          {
            id: "parts",
            type: "pie",
            radius: ["38%", "66%"],
            center: ["50%", "44%"],
            label: { color: TEXT, formatter: "{b}\n{c}" },
            data: items.map(function (i) {
              return { name: i.name, value: i.value };
            }),
          },
        ],
      };
    } else {
      var axis = axisStyle();
      option = {
        color: PALETTE,
        textStyle: { color: TEXT },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 110, right: 32, top: 8, bottom: 24 },
        xAxis: Object.assign({ type: "value", minInterval: 1 }, axis),
        yAxis: Object.assign(
          {
            type: "category",
            inverse: true,
            data: items.map(function (i) {
              return i.name;
            }),
          },
          axis
        ),
        series: [
          {
            id: "parts",
            type: "bar",
            name: breakdown.title,
            data: items.map(function (i) {
              return i.value;
            }),
          },
        ],
      };
    }
    // A refresh with the same shape of chart merges (the parts move); a change between ring
    // and bars starts the chart afresh.
    var shape = option.series[0].type;
    chart.setOption(option, { notMerge: el.getAttribute("data-shape") !== shape });
    el.setAttribute("data-shape", shape);
  }

  // --- The map of the node's area, coloured by one indicator.
  function drawMap(el, map) {
    if (!map || !map.geo) return;
    var name = "area-" + map.area;
    var draw = function () {
      var chart = chartFor("map", el);
      var byCode = {};
      map.regions.forEach(function (r) {
        byCode[r.code] = r;
      });
      var geo = window.echarts.getMap(name).geoJSON || window.echarts.getMap(name).geoJson;
      var data = [];
      var max = 0;
      (geo ? geo.features : []).forEach(function (f) {
        var region = byCode[f.properties.adcode];
        if (!region) return;
        max = Math.max(max, region.value || 0);
        data.push({ name: f.properties.name, value: region.value, union: region.name, url: region.url });
      });
      chart.setOption(
        {
          textStyle: { color: TEXT },
          tooltip: {
            trigger: "item",
            formatter: function (p) {
              if (!p.data) return p.name + "：暂无下级工会";
              return p.data.union + "<br>" + map.indicator + "：" + number(p.data.value) + map.unit;
            },
          },
          visualMap: {
            min: 0,
            max: Math.max(max, 1),
            left: 8,
            bottom: 8,
            text: ["高", "低"],
            calculable: true,
            inRange: { color: MAP_COLOURS },
            textStyle: { color: TEXT },
          },
          series: [
            {
              id: "regions",
              type: "map",
              map: name,
              roam: true,
              selectedMode: false,
              label: { show: !!map.labels, color: TEXT, fontSize: 10 },
              itemStyle: { areaColor: DARK ? "#0f1e33" : "#f1f2f4", borderColor: DARK ? "#5d7ea6" : "#8a919b", borderWidth: 0.6 },
              emphasis: { label: { show: true, color: TEXT }, itemStyle: { areaColor: DARK ? "#ffb74d" : "#ffd27a" } },
              data: data,
            },
          ],
        },
        { notMerge: false }
      );
      chart.off("click");
      chart.on("click", function (p) {
        if (p.data && p.data.url && !DARK) window.location.href = p.data.url;
      });
      el.setAttribute("data-map-ready", String(data.length));
    };
    if (geoLoaded[name]) {
      draw();
      return;
    }
    fetch(map.geo, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (geojson) {
        window.echarts.registerMap(name, geojson);
        geoLoaded[name] = true;
        draw();
      })
      .catch(function () {
        el.setAttribute("data-map-error", "1");
        el.textContent = "地图数据载入失败，请查看下方表格。";
      });
  }

  function drawAll(payload) {
    state = payload;
    // With the charts drawn, their tables fold away (still one click from view, and printed).
    document.querySelectorAll("details.chart-table[open]").forEach(function (d) {
      if (!d.hasAttribute("data-seen")) {
        d.setAttribute("data-seen", "");
        d.open = false;
      }
    });
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-chart");
      if (kind === "trend") drawTrend(el, payload.trend);
      else if (kind === "map") drawMap(el, payload.map);
      else if (kind === "breakdown") {
        var code = el.getAttribute("data-code");
        drawBreakdown(
          el,
          (payload.breakdowns || []).filter(function (b) {
            return b.code === code;
          })[0]
        );
      }
    });
  }

  // --- Big screen: numbers in place, then the charts.
  function updateNumbers(payload) {
    (payload.figures || []).forEach(function (f) {
      document.querySelectorAll('[data-figure="' + f.code + '"]').forEach(function (el) {
        var value = el.querySelector("[data-value]");
        var change = el.querySelector("[data-change]");
        var line = el.querySelector(".figure-change");
        if (value && value.textContent !== f.display) value.textContent = f.display;
        if (change && change.textContent !== f.change_text) change.textContent = f.change_text;
        if (line) line.className = "figure-change " + (f.direction || "");
      });
    });
    var stamp = document.querySelector("[data-updated]");
    if (stamp && payload.generated) stamp.textContent = payload.generated;
    var ticker = document.querySelector("[data-ticker] tbody");
    var table = ticker && ticker.closest("table");
    if (ticker && payload.children && table.hasAttribute("data-cols")) {
      // Rows in the payload's order, updated in place; new children get a row, gone ones lose it.
      var cols = table.getAttribute("data-cols").split(",");
      var existing = {};
      ticker.querySelectorAll("[data-child]").forEach(function (row) {
        existing[row.getAttribute("data-child")] = row;
      });
      payload.children.forEach(function (child) {
        var row = existing[String(child.id)];
        if (!row) {
          row = document.createElement("tr");
          row.setAttribute("data-child", String(child.id));
          var name = document.createElement("td");
          name.className = "nowrap";
          row.appendChild(name);
          cols.forEach(function (code) {
            var cell = document.createElement("td");
            cell.className = "num";
            cell.setAttribute("data-col", code);
            row.appendChild(cell);
          });
        }
        delete existing[String(child.id)];
        if (row.firstChild.textContent !== child.name) row.firstChild.textContent = child.name;
        row.querySelectorAll("[data-col]").forEach(function (cell) {
          var text = child.cells[cell.getAttribute("data-col")];
          if (text !== undefined && cell.textContent !== text) cell.textContent = text;
        });
        ticker.appendChild(row); // moves an existing row into the payload's order
      });
      Object.keys(existing).forEach(function (id) {
        existing[id].remove();
      });
    }
  }

  function poll(url, seconds) {
    var busy = false;
    window.setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.status === 401 || r.status === 403 || r.redirected) {
            document.body.setAttribute("data-refresh-stopped", "1");
            throw new Error("signed out");
          }
          if (!r.ok) throw new Error(r.status);
          return r.json();
        })
        .then(function (payload) {
          updateNumbers(payload);
          drawAll(payload);
          document.body.setAttribute("data-refreshed", String(Date.now()));
        })
        .catch(function () {})
        .then(function () {
          busy = false;
        });
    }, Math.max(2, seconds) * 1000);
  }

  function resizeAll() {
    Object.keys(charts).forEach(function (k) {
      charts[k].resize();
    });
  }

  // The big screen is laid out at 1920×1080 and scaled to whatever window shows it.
  function fitScreen() {
    var frame = document.querySelector("[data-screen-frame]");
    if (!frame) return;
    var scale = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
    frame.style.transform = scale < 0.999 || scale > 1.001 ? "scale(" + scale + ")" : "";
  }

  function start() {
    fitScreen();
    window.addEventListener("resize", fitScreen);
    var payload = readPayload();
    if (!payload || !window.echarts) return;
    document.body.classList.add("charts-on");
    drawAll(payload);
    window.addEventListener("resize", resizeAll);
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details.chart-table").forEach(function (d) {
        d.open = true;
      });
      resizeAll();
    });
    var screen = document.querySelector("[data-source]");
    if (screen) poll(screen.getAttribute("data-source"), Number(screen.getAttribute("data-refresh")) || 5);
    // The period picker submits itself when its kind changes (a plain form without scripts).
    document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        var form = select.form;
        var period = form.querySelector('[name="period"]');
        if (select.name === "kind" && period) period.value = "";
        form.submit();
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  window.niangjiaStats = { state: function () { return state; } };
})();
