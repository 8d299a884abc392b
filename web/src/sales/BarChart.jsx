// A bar chart drawn by Chart.js, loaded only when a chart is shown. The bars are scaled with numbers, but every
// text the chart shows — axis ticks, legend, tooltip — comes from the caller's formatters (money through the
// exact formatter), and the tooltip is HTML so that screen magnifiers and tests read the same words.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n.js';

let chartLib = null;
function loadChart() {
  chartLib = chartLib || import('./chartjs.js').then((m) => m.Chart, (e) => { chartLib = null; throw e; });
  return chartLib;
}

const COLORS = ['#1d5fa8', '#b45309', '#1c5b32', '#6d28d9'];

/** A number Chart.js can scale by, from minor units (BigInt, number or digits). */
const scale = (v) => Number(v);

/**
 * @param {{
 *   id: string, title: string, labels: string[],
 *   series: {label: string, values: (bigint|number|string)[], texts: string[]}[],
 *   tick: (value: number) => string,
 * }} props
 */
export function BarChart({ id, title, labels, series, tick }) {
  const canvasRef = useRef(null);
  const tipRef = useRef(null);
  const chartRef = useRef(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let live = true;
    loadChart().then((Chart) => {
      if (!live || !canvasRef.current) return;
      if (chartRef.current) chartRef.current.destroy();
      const external = ({ chart, tooltip }) => {
        const el = tipRef.current;
        if (!el) return;
        if (!tooltip || tooltip.opacity === 0 || !tooltip.dataPoints || !tooltip.dataPoints.length) {
          el.hidden = true;
          return;
        }
        const i = tooltip.dataPoints[0].dataIndex;
        el.replaceChildren();
        const head = document.createElement('p');
        head.className = 'chart-tip-title';
        head.textContent = labels[i];
        el.append(head);
        for (const s of series) {
          const line = document.createElement('p');
          line.textContent = t('chart.tipLine', { label: s.label, value: s.texts[i] });
          el.append(line);
        }
        el.hidden = false;
        const x = Math.min(Math.max(tooltip.caretX, 0), chart.width - 10);
        el.style.left = `${x}px`;
        el.style.top = `${tooltip.caretY}px`;
      };
      chartRef.current = new Chart(canvasRef.current, {
        type: 'bar',
        data: {
          labels,
          datasets: series.map((s, k) => ({
            label: s.label, data: s.values.map(scale), backgroundColor: COLORS[k % COLORS.length], borderWidth: 0, maxBarThickness: 28,
          })),
        },
        options: {
          indexAxis: 'y',
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: 'index', axis: 'y', intersect: false },
          scales: {
            x: { beginAtZero: true, ticks: { callback: (v) => tick(v), maxTicksLimit: 5, color: '#4a5567' }, grid: { color: '#e3e7ee' } },
            y: { ticks: { color: '#17202c', autoSkip: false } },
          },
          plugins: {
            legend: { position: 'bottom', labels: { color: '#17202c', boxWidth: 14 } },
            tooltip: { enabled: false, external },
          },
        },
      });
    }, () => live && setFailed(true));
    return () => {
      live = false;
      if (chartRef.current) {
        chartRef.current.destroy();
        chartRef.current = null;
      }
    };
  }, [labels.join('\u0000'), series.map((s) => `${s.label}:${s.texts.join('|')}`).join('\u0000')]);

  const height = Math.max(160, labels.length * series.length * 22 + 90);
  return (
    <figure class="chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`} class="chart-caption">{title}</figcaption>
      {failed ? (
        <p class="muted">{t('chart.unavailable')}</p>
      ) : (
        // the height is set through the CSSOM (Preact assigns style properties), which the CSP allows
        <div class="chart-box" style={{ height: `${height}px` }} data-testid={`${id}-chart`}>
          {/* The figures are in the table that follows; the picture is for sighted readers. */}
          <canvas ref={canvasRef} role="img" aria-label={t('chart.alt', { title })} />
          <div ref={tipRef} class="chart-tip" role="status" hidden data-testid={`${id}-tip`} />
        </div>
      )}
    </figure>
  );
}
