// The department report: per unit, a bar of its on-time rate in the period (top scale, 0–100 %) beside a
// bar of its cases overdue now (bottom scale, a count). The figures come from the page (json_script), so the
// chart never disagrees with the table. Also keeps the printed heading's time the time of printing.
document.addEventListener("DOMContentLoaded", () => {
  stampPrintTime();
  const source = document.getElementById("department-chart-data");
  const canvas = document.getElementById("department-chart");
  if (!source || !canvas || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const styles = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => styles.getPropertyValue(name).trim() || fallback;
  // A city has a hundred units or more: each unit keeps a readable height and the chart grows to hold them.
  const box = canvas.parentElement;
  box.style.position = "relative";
  box.style.height = `${Math.max(16 * 16, data.labels.length * 36 + 100)}px`;

  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        {
          label: data.on_time.label,
          data: data.on_time.data,
          xAxisID: "rate",
          backgroundColor: colour("--bs-success", "#198754"),
          maxBarThickness: 14,
        },
        {
          label: data.overdue.label,
          data: data.overdue.data,
          xAxisID: "count",
          backgroundColor: colour("--bs-danger", "#dc3545"),
          maxBarThickness: 14,
        },
      ],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      animation: false,
      scales: {
        rate: {
          type: "linear",
          position: "top",
          min: 0,
          max: 100,
          ticks: { callback: (value) => `${value}%` },
          title: { display: true, text: data.on_time.label },
        },
        count: {
          type: "linear",
          position: "bottom",
          beginAtZero: true,
          ticks: { precision: 0 },
          grid: { drawOnChartArea: false },
          title: { display: true, text: data.overdue.label },
        },
      },
      plugins: {
        legend: { position: "top" },
        // A unit without a rated resolution has no rate: its bar is missing, not a zero.
        tooltip: {
          callbacks: {
            label: (item) => (item.dataset.xAxisID === "rate" ? `${item.dataset.label}: ${item.raw}%`
              : `${item.dataset.label}: ${item.raw}`),
          },
        },
      },
    },
  });
  canvas.dataset.ready = String(chart.data.labels.length);
});

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
