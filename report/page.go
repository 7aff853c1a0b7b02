package report

// pageHTML is the report's template: plain HTML and CSS, no scripts, no
// external resources.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flowlab: when deterministic neural flows fail</title>
<style>
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #1d232b; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.35em; margin-top: 2.2em; border-bottom: 2px solid #d0d7de; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.4em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #d0d7de; padding: 0.3em 0.55em; text-align: left; vertical-align: top; }
th { background: #f3f5f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 0.3em 0; }
.verdict { font-weight: bold; white-space: nowrap; }
.confirmed { color: #116329; }
.refuted { color: #a40e26; }
.inconclusive { color: #7d4e00; }
.meta { color: #57606a; font-size: 0.9em; }
.q { background: #f6f8fa; border-left: 4px solid #0969da; padding: 0.5em 0.8em; }
.claim { background: #fff8e6; border-left: 4px solid #bf8700; padding: 0.5em 0.8em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
figcaption { font-size: 0.88em; color: #57606a; }
</style>
</head>
<body>
<h1>flowlab: when deterministic neural flows fail</h1>
<p>A reproduction of the study, run by <code>flowlab reproduce</code>. Each experiment states the question,
the seed's claim, what flowlab measured, and a verdict computed from the measurements by the stated
criterion.</p>
<p class="meta">Rendered by flowlab build {{.Build}}.</p>
{{if .Missing}}<p class="meta">Not run: {{range $i, $m := .Missing}}{{if $i}}, {{end}}{{$m}}{{end}}.</p>{{end}}

<h2 id="summary">Claims against measurements</h2>
<p>Every verdict comes from a criterion stated in the code before the results: <b>confirmed</b> when the
95 % interval over seeds lies wholly on the claim's side of its threshold, <b>refuted</b> when it lies
wholly on the other side, <b>inconclusive</b> otherwise.</p>
{{range .Overview}}{{if .Rows}}<h3>{{.Title}}</h3>
<table>
<tr><th>experiment</th><th>claim</th><th>flowlab measured</th><th>verdict</th></tr>
{{range .Rows}}<tr><td><a href="#{{.Experiment}}">{{.Experiment}}</a></td><td>{{.Claim}}</td><td>{{.Measured}}</td><td class="verdict {{vclass .Verdict}}">{{.Verdict}}</td></tr>
{{end}}</table>
{{end}}{{end}}

{{range .Sections}}
<h2 id="{{.Experiment}}">{{.Experiment}}{{if .Title}}: {{.Title}}{{end}}</h2>
<p class="meta">scale {{.Scale}}, seed {{.Seed}}, run folder <code>{{.Dir}}</code>{{if .Written}}, written {{.Written}}{{end}}</p>
<p class="q"><b>Question.</b> {{.Question}}</p>
<p class="claim"><b>The seed's claim.</b> {{.SeedClaim}}</p>
<h3>Verdicts</h3>
<table>
<tr><th>kind</th><th>claim</th><th>measured</th><th>criterion</th><th>verdict</th></tr>
{{range .Findings}}<tr><td>{{.Kind}}</td><td>{{.Claim}}</td><td>{{.Measured}}</td><td>{{.Criterion}}</td><td class="verdict {{vclass .Verdict}}">{{.Verdict}}</td></tr>
{{end}}</table>
{{range .Images}}<figure><img src="{{.DataURI}}" width="{{.Width}}" height="{{.Height}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}
<h3>Measurements</h3>
{{range .Tables}}<table>
<caption>{{.Caption}}</caption>
<tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td class="num">{{cell .}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
{{end}}
</body>
</html>
`
