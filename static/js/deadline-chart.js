// The city's deadline view: one horizontal stacked bar per unit, its open cases split into overdue, due soon
// and on schedule. The figures come from the page (json_script), so the chart never disagrees with the table.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("deadline-chart-data");
  const canvas = document.getElementById("deadline-chart");
  if (!source || !canvas || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const styles = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => styles.getPropertyValue(name).trim() || fallback;
  const colours = {
    overdue: colour("--bs-danger", "#dc3545"),
    due_soon: colour("--bs-warning", "#ffc107"),
    on_schedule: colour("--bs-secondary-bg", "#e9ecef"),
  };
  // A city has a hundred units or more: each bar keeps a readable height and the chart grows to hold them.
  const box = canvas.parentElement;
  box.style.position = "relative";
  box.style.height = `${Math.max(16 * 16, data.labels.length * 28 + 80)}px`;

  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.datasets.map((dataset) => ({
        label: dataset.label,
        data: dataset.data,
        backgroundColor: colours[dataset.key],
        borderColor: colour("--bs-border-color", "#dee2e6"),
        borderWidth: dataset.key === "on_schedule" ? 1 : 0,
        maxBarThickness: 28,
      })),
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        y: { stacked: true },
      },
      plugins: { legend: { position: "top" } },
    },
  });
  canvas.dataset.ready = String(chart.data.labels.length);
});
