// Statistics page: one ECharts chart per table (data embedded in #stats-data as JSON).
(function () {
  "use strict";
  var holder = document.getElementById("stats-data");
  if (!holder || typeof window.echarts === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var palette = ["#8f1d1d", "#1d4f91", "#d49b00", "#1e6b3a", "#6b3fa0", "#0f7c8c", "#b35c1e", "#5f6773"];

  var categoryChart = function (rows, horizontal, name) {
    var labels = rows.map(function (r) { return r[0]; });
    var values = rows.map(function (r) { return r[1]; });
    var valueAxis = { type: "value", minInterval: 1 };
    var categoryAxis = { type: "category", data: labels, axisLabel: { interval: 0, width: 130, overflow: "truncate" } };
    if (horizontal) { categoryAxis.inverse = true; }
    return {
      color: palette,
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 150 : 40, right: 20, top: 20, bottom: horizontal ? 20 : 60, containLabel: !horizontal },
      xAxis: horizontal ? valueAxis : Object.assign(categoryAxis, { axisLabel: { interval: 0, rotate: labels.length > 4 ? 30 : 0 } }),
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: [{ type: "bar", name: name, data: values, barMaxWidth: 36, label: { show: true, position: horizontal ? "right" : "top" } }]
    };
  };

  var options = {
    bar: function (t) { return categoryChart(t.rows, false, t.columns[1]); },
    hbar: function (t) { return categoryChart(t.rows, true, t.columns[1]); },
    pie: function (t) {
      return {
        color: palette,
        tooltip: { trigger: "item", formatter: "{b}：{c}件（{d}%）" },
        legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data: t.rows.map(function (r) { return { name: r[0], value: r[1] }; }),
                   label: { formatter: "{b}\n{c}件" } }]
      };
    },
    line: function (t) {
      return {
        color: palette,
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 20, top: 20, bottom: 40 },
        xAxis: { type: "category", data: t.rows.map(function (r) { return r[0].slice(5); }) },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "line", name: t.columns[1], data: t.rows.map(function (r) { return r[1]; }), smooth: false, areaStyle: { opacity: 0.15 } }]
      };
    },
    assessment: function (t) {
      // One group of bars per 责任单位: every column whose name ends in 率 ("—" draws nothing).
      var rateColumns = [];
      t.columns.forEach(function (c, i) { if (/率$/.test(c)) { rateColumns.push(i); } });
      return {
        color: palette,
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } },
        legend: { top: 0 },
        grid: { left: 40, right: 20, top: 50, bottom: 60, containLabel: true },
        xAxis: { type: "category", data: t.rows.map(function (r) { return r[0]; }),
                 axisLabel: { interval: 0, rotate: t.rows.length > 3 ? 30 : 0, width: 120, overflow: "truncate" } },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        series: rateColumns.map(function (i) {
          return { type: "bar", name: t.columns[i], barMaxWidth: 18,
                   data: t.rows.map(function (r) { var v = parseFloat(r[i]); return isNaN(v) ? null : v; }) };
        })
      };
    },
    rates: function (t) {
      var values = t.rows.map(function (r) { return r[2] ? Math.round(1000 * r[1] / r[2]) / 10 : 0; });
      return {
        color: palette,
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
        grid: { left: 40, right: 30, top: 20, bottom: 30 },
        xAxis: { type: "category", data: t.rows.map(function (r) { return r[0]; }) },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        series: [{ type: "bar", data: values, barMaxWidth: 48, label: { show: true, position: "top", formatter: "{c}%" } }]
      };
    }
  };

  var charts = [];
  document.querySelectorAll(".chart[data-table]").forEach(function (el) {
    var table = data.tables[el.getAttribute("data-table")];
    if (!table || !options[table.chart]) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    if (!table.rows.length) {
      chart.setOption({ title: { text: "本期没有数据", left: "center", top: "middle", textStyle: { color: "#5f6773", fontSize: 14, fontWeight: "normal" } } });
    } else {
      chart.setOption(options[table.chart](table));
    }
    el.setAttribute("data-rendered", "true");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
