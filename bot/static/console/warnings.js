// One early-warning cluster: petitions per day over the look-back period (data in #warning-data).
(function () {
  "use strict";
  var holder = document.getElementById("warning-data");
  var target = document.getElementById("trend-chart");
  if (!holder || !target || typeof window.echarts === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var chart = window.echarts.init(target);
  chart.setOption({
    color: ["#8f1d1d"],
    tooltip: { trigger: "axis" },
    grid: { left: 40, right: 20, top: 20, bottom: 40 },
    xAxis: { type: "category", data: data.trend.map(function (r) { return r[0].slice(5); }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", name: "信访件", data: data.trend.map(function (r) { return r[1]; }), barMaxWidth: 24 }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
}());
