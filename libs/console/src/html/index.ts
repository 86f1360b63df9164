export {
  escapeHtml,
  html,
  Html,
  pretty,
  query,
  raw,
  type HtmlValue,
} from './html.js';
export { page, type PageContext } from './layout.js';
