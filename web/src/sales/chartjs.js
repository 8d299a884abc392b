// Only the parts of Chart.js a horizontal bar chart needs, so that the chunk loaded with the first chart stays small.
import { Chart, BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export { Chart };
