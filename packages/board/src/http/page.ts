/** Only what the page's script needs from the server; no Redis data, no connection details. */
export interface PageSettings {
  basePath: string;
  csrfToken: string;
  writes: boolean;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => ESCAPES[c]);
}

/** The board's one HTML page: a shell the script (board.js) fills from the JSON API. No inline script. */
export function renderPage(settings: PageSettings): string {
  const base = escapeHtml(settings.basePath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="nestream-board-base" content="${base}">
<meta name="nestream-board-csrf" content="${escapeHtml(settings.csrfToken)}">
<meta name="nestream-board-writes" content="${settings.writes ? 'on' : 'off'}">
<title>nestream board</title>
<link rel="stylesheet" href="${base}/assets/board.css">
<script type="module" src="${base}/assets/board.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="#/">nestream board</a>
  <nav aria-label="Breadcrumb"><ol id="crumbs"></ol></nav>
  <span id="mode" class="badge"></span>
  <span id="live" class="live" role="status" aria-live="polite"></span>
</header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript><p>The board needs JavaScript (its own script only: no third-party code).</p></noscript>
</body>
</html>
`;
}
