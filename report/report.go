// Package report renders flowlab's study report: one self-contained HTML page
// (figures embedded as base64 data URIs, no external resources, no scripts)
// built from the run folders that the experiments write.
//
// Each experiment's metrics.json carries a Summary: the question it asks, the
// seed's claim, tables of what flowlab measured and the findings, each of one
// kind (the seed's claim, flowlab's hypothesis, a check of the code) with a
// verdict that the experiment computed from intervals over seeds by a stated
// criterion. The report only renders: the overview at the top lists the
// seed's claims first, then the hypotheses, then the code checks.
package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/internal/atomicfile"
)

// Verdicts a Finding can carry.
const (
	Confirmed    = "confirmed"    // the interval lies wholly on the claim's side of the criterion
	Refuted      = "refuted"      // the interval lies wholly on the other side
	Inconclusive = "inconclusive" // the interval straddles the criterion's threshold
)

// Kinds of Finding, kept apart: what the seed claims (quoted from the
// study), what flowlab hypothesises beyond it, and checks of the code
// (theorems that any correct implementation must meet).
const (
	SeedClaim  = "seed claim"
	Hypothesis = "hypothesis"
	CodeCheck  = "code check"
)

// Finding is one claim checked against measurements.
type Finding struct {
	Kind      string `json:"kind"`           // SeedClaim, Hypothesis or CodeCheck
	Claim     string `json:"claim"`          // the claim in plain words (quoted, for a seed claim)
	Measured  string `json:"measured"`       // what flowlab measured, with the numbers
	Criterion string `json:"criterion"`      // the rule that turns the numbers into the verdict
	Verdict   string `json:"verdict"`        // Confirmed, Refuted or Inconclusive
	Test      any    `json:"test,omitempty"` // the criterion as data and the values it judged
}

// Table is a table of measurements. Cells are strings or numbers; numbers
// are printed with four significant digits.
type Table struct {
	Caption string   `json:"caption"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Figure is a PNG in the run folder's figures/ directory.
type Figure struct {
	File    string `json:"file"` // name inside figures/
	Caption string `json:"caption"`
}

// Summary is what the report reads from an experiment's metrics.json (the
// experiment may store more there).
type Summary struct {
	Experiment string    `json:"experiment"`
	Title      string    `json:"title"`
	Question   string    `json:"question"`
	SeedClaim  string    `json:"seed_claim"`
	Scale      string    `json:"scale"`
	Seed       uint64    `json:"seed"`
	Findings   []Finding `json:"findings"`
	Tables     []Table   `json:"tables"`
	Figures    []Figure  `json:"figures"`
}

// Section is one experiment ready to render: its summary, the folder it came
// from and its figures as data URIs.
type Section struct {
	Summary
	Dir    string
	Images []Image
	// Written is when metrics.json was written (UTC), for the page.
	Written string
}

// Image is an embedded figure.
type Image struct {
	Caption       string
	DataURI       template.URL
	Width, Height int
}

// Load reads every runs/NAME/metrics.json under runsDir that holds a Summary
// and embeds its figures, sections in the order of the names in order (the
// study's, which the experiment package owns), others after them in
// alphabetical order. A folder without metrics.json is skipped; a broken
// metrics.json or a missing or undecodable figure is an error naming the file.
func Load(runsDir string, order []string) ([]Section, error) {
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		return nil, fmt.Errorf("report: read runs folder: %w", err)
	}
	var out []Section
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(runsDir, e.Name())
		mpath := filepath.Join(dir, "metrics.json")
		b, err := os.ReadFile(mpath)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		s, err := ParseSummary(b)
		if err != nil {
			return nil, fmt.Errorf("report: %s: %w", mpath, err)
		}
		sec := Section{Summary: s, Dir: dir}
		if t := writtenAt(mpath); !t.IsZero() {
			sec.Written = t.Format(dateLayout)
		}
		for _, f := range s.Figures {
			if f.File == "" || strings.Contains(f.File, "..") || filepath.IsAbs(f.File) {
				return nil, fmt.Errorf("report: %s: figure file %q is not a name inside figures/", mpath, f.File)
			}
			fpath := filepath.Join(dir, "figures", f.File)
			img, err := embedPNG(fpath)
			if err != nil {
				return nil, fmt.Errorf("report: %s: %w", mpath, err)
			}
			img.Caption = f.Caption
			sec.Images = append(sec.Images, img)
		}
		out = append(out, sec)
	}
	slices.SortStableFunc(out, func(a, b Section) int {
		ia, ib := position(order, a.Experiment), position(order, b.Experiment)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a.Experiment, b.Experiment)
	})
	return out, nil
}

// ParseSummary reads the Summary from the bytes of a metrics.json and
// rejects one the page cannot show honestly: no experiment name, a verdict
// other than the three, a table row whose length differs from the columns.
func ParseSummary(b []byte) (Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return Summary{}, err
	}
	if s.Experiment == "" {
		return Summary{}, errors.New("no \"experiment\" field")
	}
	if err := s.check(); err != nil {
		return Summary{}, err
	}
	return s, nil
}

// check rejects summaries the page cannot show honestly.
func (s Summary) check() error {
	for i, f := range s.Findings {
		switch f.Verdict {
		case Confirmed, Refuted, Inconclusive:
		default:
			return fmt.Errorf("finding %d: verdict %q is not %q, %q or %q", i, f.Verdict, Confirmed, Refuted, Inconclusive)
		}
		switch f.Kind {
		case SeedClaim, Hypothesis, CodeCheck:
		default:
			return fmt.Errorf("finding %d: kind %q is not %q, %q or %q", i, f.Kind, SeedClaim, Hypothesis, CodeCheck)
		}
	}
	for i, t := range s.Tables {
		for j, r := range t.Rows {
			if len(r) != len(t.Columns) {
				return fmt.Errorf("table %d (%q) row %d: %d cells for %d columns", i, t.Caption, j, len(r), len(t.Columns))
			}
		}
	}
	return nil
}

// position returns name's index in order, or len(order) when absent.
func position(order []string, name string) int {
	if i := slices.Index(order, name); i >= 0 {
		return i
	}
	return len(order)
}

// embedPNG reads a PNG, checks that it decodes and returns it as a data URI.
func embedPNG(path string) (Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("figure: %w", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Image{}, fmt.Errorf("figure %s: not a PNG: %w", path, err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		return Image{}, fmt.Errorf("figure %s: %w", path, err)
	}
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
	return Image{DataURI: template.URL(uri), Width: cfg.Width, Height: cfg.Height}, nil
}

// Write renders sections as the report page to path, atomically; expected
// names the experiments the page should hold (those without a section are
// listed as not run).
func Write(path string, sections []Section, expected []string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Render(w, sections, expected) })
}

// Render writes the report page for sections to w; expected names the
// experiments the page should hold (those without a section are listed as
// not run).
func Render(w io.Writer, sections []Section, expected []string) error {
	type row struct {
		Experiment, Title string
		Finding
	}
	type group struct {
		Title string
		Rows  []row
	}
	overview := []group{
		{Title: "The seed's claims (quoted from the study)"},
		{Title: "flowlab's own hypotheses and controls"},
		{Title: "Checks of the code (theorems any correct implementation meets)"},
	}
	kinds := []string{SeedClaim, Hypothesis, CodeCheck}
	for _, s := range sections {
		for _, f := range s.Findings {
			k := slices.Index(kinds, f.Kind)
			if k < 0 {
				return fmt.Errorf("report: %s: finding kind %q is not %q, %q or %q", s.Experiment, f.Kind, SeedClaim, Hypothesis, CodeCheck)
			}
			g := &overview[k]
			g.Rows = append(g.Rows, row{s.Experiment, s.Title, f})
		}
	}
	missing := []string{}
	for _, name := range expected {
		if !slices.ContainsFunc(sections, func(s Section) bool { return s.Experiment == name }) {
			missing = append(missing, name)
		}
	}
	return page.Execute(w, map[string]any{
		"Sections": sections,
		"Overview": overview,
		"Missing":  missing,
		"Build":    Build(),
	})
}

// Cell formats a table cell: numbers with four significant digits (integers
// in full), strings as they are, anything else as JSON.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return Num(x)
	case float32:
		return Num(float64(x))
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Num formats x with four significant digits, integers below 10⁷ in full,
// and NaN as "—".
func Num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case math.IsInf(x, 0):
		return strconv.FormatFloat(x, 'g', -1, 64)
	case x == math.Trunc(x) && math.Abs(x) < 1e7:
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"cell": Cell,
	"vclass": func(v string) string {
		return strings.ReplaceAll(v, " ", "-")
	},
}).Parse(pageHTML))
