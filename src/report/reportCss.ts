/** report.html's style sheet (inlined: the page loads nothing from the network). */
export const CSS = `
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:24px 24px 40px;background:#f1f5f9;color:#0f172a;font:14px/1.45 ui-sans-serif,system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:15px;margin:0 0 10px;color:#1e293b}
.sub{margin:0;color:#475569}
.muted{color:#64748b}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#e2e8f0;border-radius:4px;padding:1px 4px}
code.hash{background:none;padding:0;color:#475569}
header{margin-bottom:18px}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:12px;margin-bottom:16px}
.card{background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 2px rgba(15,23,42,.08);border-top:3px solid #2563eb}
.card .k{color:#64748b;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:24px;font-weight:700;margin:2px 0}
.card .s{color:#64748b;font-size:12px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.panel{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(15,23,42,.08);margin:0}
.wide{grid-column:1/-1}
figure svg{display:block;height:auto}
figcaption{color:#64748b;font-size:12px;margin-top:6px}
.tables{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin:16px 0}
table{border-collapse:collapse;width:100%;margin-bottom:12px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top}
th{font-size:12px;color:#475569;font-weight:600}
.r{text-align:right;font-variant-numeric:tabular-nums}
tr.diff td{background:#fef2f2}
.err{color:#b91c1c}
details{margin:4px 0}
summary{cursor:pointer;font-weight:600;padding:4px 0}
footer{color:#94a3b8;font-size:12px;margin-top:16px;text-align:center}
@media (max-width:900px){.grid,.tables{grid-template-columns:1fr}.cards{grid-template-columns:repeat(2,1fr)}}
`
