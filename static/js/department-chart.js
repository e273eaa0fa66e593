// The department report: per unit, its on-time rate in the period (0–100 %) and, in a chart of its own, its
// cases overdue now (a count): each measure on its own scale, so that one overdue case is never drawn as long
// as a full rate. The figures come from the page (json_script), so the charts never disagree with the table.
// Also keeps the printed heading's time the time of printing.
document.addEventListener("DOMContentLoaded", () => {
  stampPrintTime();
  const source = document.getElementById("department-chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const styles = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => styles.getPropertyValue(name).trim() || fallback;
  drawMeasure(document.getElementById("department-chart"), data.labels, data.on_time,
    colour("--bs-success", "#198754"), { min: 0, max: 100, ticks: { callback: (value) => `${value}%` } }, "%");
  drawMeasure(document.getElementById("department-overdue-chart"), data.labels, data.overdue,
    colour("--bs-danger", "#dc3545"), { beginAtZero: true, ticks: { precision: 0 } }, "");
});

function drawMeasure(canvas, labels, measure, colour, scale, unit) {
  if (!canvas) {
    return;
  }
  // A city has a hundred units or more: each unit keeps a readable height and the chart grows to hold them.
  const box = canvas.parentElement;
  box.style.position = "relative";
  box.style.height = `${Math.max(12 * 16, labels.length * 28 + 60)}px`;
  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: [{ label: measure.label, data: measure.data, backgroundColor: colour, maxBarThickness: 14 }],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { type: "linear", position: "top", ...scale } },
      plugins: {
        legend: { display: false },
        // A unit without a rated resolution has no rate: its bar is missing, not a zero.
        tooltip: { callbacks: { label: (item) => `${measure.label}: ${item.raw}${unit}` } },
      },
    },
  });
  canvas.dataset.ready = String(chart.data.labels.length);
}

// The printed heading names the moment of printing, in the city's time zone (the page may have been open a
// while); until then it shows the time the page was made.
function stampPrintTime() {
  const stamp = document.querySelector("[data-printed-at]");
  if (!stamp) {
    return;
  }
  window.addEventListener("beforeprint", () => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
      timeZone: stamp.dataset.timeZone || undefined,
      day: "2-digit",
      month: "2-digit",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(new Date()).map((part) => [part.type, part.value]));
    stamp.textContent = `${parts.day}/${parts.month}/${parts.year} ${parts.hour}:${parts.minute}`;
    stamp.setAttribute("datetime", new Date().toISOString());
  });
}
