// mcp-orch dashboard: the little the server cannot do. Pages are rendered by the daemon and kept
// live by htmx over one event stream; this script filters cards, copies text, dismisses toasts,
// follows logs and draws the metrics charts with uPlot. No eval, no inline script (see the CSP).
'use strict';

(function () {
  /** Overview filters: cards whose state or name does not match are hidden. */
  function applyFilters() {
    var state = document.getElementById('filter-state');
    var name = document.getElementById('filter-name');
    if (!state || !name) return;
    var wanted = state.value;
    var text = name.value.trim().toLowerCase();
    var shown = 0;
    document.querySelectorAll('.card[data-name]').forEach(function (card) {
      var visible = (!wanted || card.dataset.state === wanted) && (!text || card.dataset.name.toLowerCase().indexOf(text) !== -1);
      card.hidden = !visible;
      if (visible) shown++;
    });
    var count = document.getElementById('filter-count');
    if (count) count.textContent = shown + ' shown';
  }

  /** Copy buttons: `data-copy` names the element whose text goes to the clipboard. */
  function onClick(event) {
    var button = event.target.closest('[data-copy]');
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(
      function () {
        button.textContent = 'Copied';
      },
      function () {
        button.textContent = 'Select and copy';
      },
    );
  }

  /** Toasts leave after a while; a log that is followed stays scrolled to its end. */
  function settle() {
    document.querySelectorAll('.toast:not([data-timed])').forEach(function (toast) {
      toast.dataset.timed = '1';
      setTimeout(function () {
        toast.remove();
      }, 6000);
    });
    document.querySelectorAll('pre.logs[data-follow]').forEach(function (pre) {
      pre.scrollTop = pre.scrollHeight;
    });
    applyFilters();
  }

  /** The metrics page: one chart per figure, from the samples the page carries as JSON. */
  function drawCharts() {
    var data = document.getElementById('metrics-data');
    if (!data || typeof uPlot === 'undefined') return;
    var payload = JSON.parse(data.textContent);
    var styles = getComputedStyle(document.documentElement);
    var axis = { stroke: styles.getPropertyValue('--muted').trim(), grid: { stroke: styles.getPropertyValue('--line').trim() } };
    var palette = ['#2f5bd3', '#d53f8c', '#38a169', '#dd6b20', '#805ad5', '#319795', '#d69e2e', '#e53e3e'];
    document.querySelectorAll('.chart[data-figure]').forEach(function (el) {
      var figure = el.dataset.figure;
      var series = payload.series[figure];
      var opts = {
        width: Math.max(280, el.clientWidth),
        height: 220,
        title: el.dataset.title,
        axes: [axis, Object.assign({ label: el.dataset.unit }, axis)],
        series: [{}].concat(
          series.names.map(function (name, i) {
            return { label: name, stroke: palette[i % palette.length], width: 1.5, spanGaps: false };
          }),
        ),
      };
      el.textContent = '';
      new uPlot(opts, [payload.times].concat(series.values), el);
    });
  }

  document.addEventListener('click', onClick);
  document.addEventListener('input', function (event) {
    if (event.target.closest('.filters')) applyFilters();
  });
  document.addEventListener('htmx:afterSettle', settle);
  document.addEventListener('htmx:sseMessage', settle);
  document.addEventListener('DOMContentLoaded', function () {
    settle();
    drawCharts();
  });
})();
