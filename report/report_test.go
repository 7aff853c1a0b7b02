package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/plot"
)

// study is the order of the study's experiments, as the experiment package
// gives it.
var study = []string{"width", "variance", "rank", "mnist", "stochastic", "latent"}

// writeRun creates runs/name with a metrics.json holding s and one small
// real figure per entry of s.Figures.
func writeRun(t *testing.T, runs string, s Summary) {
	t.Helper()
	dir := filepath.Join(runs, s.Experiment)
	if err := os.MkdirAll(filepath.Join(dir, "figures"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Figures {
		v := make([]float64, 64)
		for i := range v {
			v[i] = math.Pow(0.9, float64(i))
		}
		if err := (plot.Spectrum{Title: f.Caption, Values: v}).Save(filepath.Join(dir, "figures", f.File), 320, 200); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func fixture(t *testing.T) string {
	runs := t.TempDir()
	writeRun(t, runs, Summary{
		Experiment: "rank", Title: "rank-deficient sources", Question: "Does a rank-64 source reach Chi(128)?",
		SeedClaim: "It does not.", Scale: "smoke", Seed: 1,
		Findings: []Finding{{Claim: "rank-64 misses Chi(128)", Measured: "KS 0.9 vs 0.05", Criterion: "KS > 0.5", Verdict: Confirmed, Kind: SeedClaim}},
		Tables:   []Table{{Caption: "runs", Columns: []string{"rank", "KS", "note"}, Rows: [][]any{{64, 0.91234567, "far"}, {128, 0.04, "<close> & fine"}}}},
		Figures:  []Figure{{File: "norms.png", Caption: "norms"}, {File: "more.png", Caption: "more"}},
	})
	writeRun(t, runs, Summary{
		Experiment: "width", Question: "q", SeedClaim: "c", Scale: "smoke", Seed: 1,
		Findings: []Finding{{Claim: "a", Measured: "b", Criterion: "c", Verdict: Refuted, Kind: CodeCheck}, {Claim: "d", Measured: "e", Criterion: "f", Verdict: Inconclusive, Kind: Hypothesis}},
		Figures:  []Figure{{File: "h.png", Caption: "h"}},
	})
	// A folder without metrics.json is skipped.
	if err := os.MkdirAll(filepath.Join(runs, "scratch"), 0o755); err != nil {
		t.Fatal(err)
	}
	return runs
}

var imgSrc = regexp.MustCompile(`<img src="([^"]*)"`)

func TestReportSelfContained(t *testing.T) {
	runs := fixture(t)
	secs, err := Load(runs, study)
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 2 || secs[0].Experiment != "width" || secs[1].Experiment != "rank" {
		t.Fatalf("sections %v, want width then rank (the study's order)", names(secs))
	}
	out := filepath.Join(t.TempDir(), "report.html")
	if err := Write(out, secs, study); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	srcs := imgSrc.FindAllStringSubmatch(page, -1)
	if len(srcs) != 3 {
		t.Fatalf("%d images in the page, want 3", len(srcs))
	}
	for _, m := range srcs {
		const pre = "data:image/png;base64,"
		if !strings.HasPrefix(m[1], pre) {
			t.Fatalf("image source %.40q is not an embedded PNG", m[1])
		}
		raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1][len(pre):])) // the template writes + as &#43;
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
			t.Fatalf("embedded image does not decode: %v", err)
		}
	}
	// The overview lists the seed's claims first, then hypotheses, then
	// code checks, whatever the order of the sections.
	seed, check := strings.Index(page, "<h3>The seed"), strings.Index(page, "<h3>Checks of the code")
	if seed < 0 || check < 0 || seed > check || strings.Index(page, "rank-64 misses Chi(128)") > check {
		t.Errorf("overview out of order: seed claims at %d, code checks at %d", seed, check)
	}
	for _, bad := range []string{"<script", "http://", "https://", "<link", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must be self-contained and script-free", bad)
		}
	}
	for _, want := range []string{
		"0.9123",                   // four significant digits
		"&lt;close&gt; &amp; fine", // text escaped
		`class="verdict refuted"`,  // verdict styled
		"Not run: variance, mnist, stochastic, latent.",
		`href="#rank"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func names(s []Section) []string {
	var n []string
	for _, x := range s {
		n = append(n, x.Experiment)
	}
	return n
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, metrics, want string
		figure              []byte
	}{
		{"broken json", `{"experiment": "x",`, "metrics.json", nil},
		{"no name", `{"question": "q"}`, `no "experiment" field`, nil},
		{"bad verdict", `{"experiment":"x","findings":[{"kind":"seed claim","verdict":"maybe"}]}`, `verdict "maybe"`, nil},
		{"bad kind", `{"experiment":"x","findings":[{"kind":"guess","verdict":"refuted"}]}`, `kind "guess"`, nil},
		{"ragged table", `{"experiment":"x","tables":[{"caption":"t","columns":["a"],"rows":[[1,2]]}]}`, "2 cells for 1 columns", nil},
		{"missing figure", `{"experiment":"x","figures":[{"file":"gone.png"}]}`, "gone.png", nil},
		{"escaping figure", `{"experiment":"x","figures":[{"file":"../metrics.json"}]}`, "not a name inside figures/", nil},
		{"not a png", `{"experiment":"x","figures":[{"file":"f.png"}]}`, "not a PNG", []byte("GIF89a")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "x")
			os.MkdirAll(filepath.Join(dir, "figures"), 0o755)
			os.WriteFile(filepath.Join(dir, "metrics.json"), []byte(c.metrics), 0o644)
			if c.figure != nil {
				os.WriteFile(filepath.Join(dir, "figures", "f.png"), c.figure, 0o644)
			}
			_, err := Load(runs, study)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope"), study); err == nil {
		t.Error("missing runs folder: want error")
	}
}

func TestNum(t *testing.T) {
	cases := map[float64]string{0.123456: "0.1235", 712: "712", -3: "-3", 1e-7: "1e-07", 15.98: "15.98", 1e9: "1e+09"}
	for x, want := range cases {
		if got := Num(x); got != want {
			t.Errorf("Num(%g) = %q, want %q", x, got, want)
		}
	}
	if Num(math.NaN()) != "—" || Cell(nil) != "—" || Cell("a") != "a" || Cell(true) != "true" {
		t.Error("Num/Cell special cases")
	}
}

// TestChromiumRendersReport opens the page in headless Chromium with a small
// probe script added (the report itself has none) that records script errors
// and each image's decoded width, and fails if any image did not decode or a
// script error occurred.
func TestChromiumRendersReport(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("chromium not installed")
	}
	runs := fixture(t)
	secs, err := Load(runs, study)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "report.html")
	if err := Write(out, secs, study); err != nil {
		t.Fatal(err)
	}
	widths, errs := probe(t, bin, out)
	if errs != "" {
		t.Errorf("script errors: %s", errs)
	}
	if len(widths) != 3 {
		t.Fatalf("chromium saw %d images, want 3", len(widths))
	}
	for i, w := range widths {
		if w == "0" {
			t.Errorf("image %d did not decode in chromium (naturalWidth 0)", i)
		}
	}

	// The probe itself must catch a broken image: corrupt one data URI.
	b, _ := os.ReadFile(out)
	broken := strings.Replace(string(b), "data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1)
	bad := filepath.Join(dir, "broken.html")
	os.WriteFile(bad, []byte(broken), 0o644)
	widths, _ = probe(t, bin, bad)
	if len(widths) != 3 || widths[0] != "0" {
		t.Errorf("probe missed a corrupted image: widths %v", widths)
	}
}

func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

var (
	probeW   = regexp.MustCompile(`data-probe-w="([0-9]+)"`)
	probeErr = regexp.MustCompile(`data-probe-errors="([^"]*)"`)
)

// probe loads a copy of page with a probe script in headless Chromium and
// returns the naturalWidth of each image and the script errors seen.
func probe(t *testing.T, bin, page string) (widths []string, errs string) {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	const script = `<script>
window.__errs = [];
window.addEventListener('error', e => window.__errs.push(String(e.message)));
window.addEventListener('load', () => {
  document.querySelectorAll('img').forEach(im => im.setAttribute('data-probe-w', String(im.naturalWidth)));
  document.body.setAttribute('data-probe-errors', window.__errs.join('; '));
});
</script>`
	html := strings.Replace(string(b), "<head>", "<head>"+script, 1)
	probed := filepath.Join(t.TempDir(), "probe.html")
	if err := os.WriteFile(probed, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", "file://"+probed)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := stdout.String()
	m := probeErr.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("probe did not run (no data-probe-errors in the DOM):\n%.500s", dom)
	}
	for _, w := range probeW.FindAllStringSubmatch(dom, -1) {
		widths = append(widths, w[1])
	}
	return widths, m[1]
}

func FuzzParseSummary(f *testing.F) {
	f.Add([]byte(`{"experiment":"rank","findings":[{"kind":"seed claim","claim":"c","measured":"m","criterion":"k","verdict":"confirmed"}],"tables":[{"caption":"t","columns":["a","b"],"rows":[[1,"x"]]}]}`))
	f.Add([]byte(`{"experiment":"x","tables":[{"columns":[],"rows":[[]]}]}`))
	f.Add([]byte(`{"experiment":"x","findings":[{"verdict":"maybe"}]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSummary(b)
		if err != nil {
			return
		}
		// Whatever parses must render.
		var buf bytes.Buffer
		if err := Render(&buf, []Section{{Summary: s}}, study); err != nil {
			t.Fatalf("render of a parsed summary: %v", err)
		}
	})
}
