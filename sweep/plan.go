package sweep

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/internal/buildinfo"
)

// Format names the layout of a plan folder; a folder of another format is
// refused.
const Format = "flowlab-sweep/1"

// The files of a plan folder.
const (
	PlanFile  = "plan.json"
	CellsFile = "cells.jsonl"
	CellsDir  = "cells"
)

// ErrPlan is wrapped by every error about a plan folder that a user can
// mend: missing or malformed files, another format or build, an index out
// of range, a cell folder that records another config.
var ErrPlan = errors.New("bad sweep plan")

// A Cell is one unit of work: a training run and its measurements.
type Cell struct {
	Index      int             `json:"index"`
	ID         string          `json:"id"` // stable and path-safe: letters, digits, '-', '_', '.', '/' between parts
	Experiment string          `json:"experiment"`
	Config     json.RawMessage `json:"config"` // everything the cell needs to run
	Cost       float64         `json:"cost_s"` // estimated CPU seconds
	// Needs lists the cells whose results this cell reads (a choice made
	// on them, such as a hyperparameter picked on a seed no verdict
	// uses): they run first, and need nothing themselves.
	Needs []int `json:"needs,omitempty"`
}

// Digest is the SHA-256 of the cell's compacted config: what done.json and
// cell.json record, so a changed config is noticed.
func (c Cell) Digest() string {
	var b bytes.Buffer
	if err := json.Compact(&b, c.Config); err != nil {
		b.Reset()
		b.Write(c.Config)
	}
	sum := sha256.Sum256(append([]byte(c.Experiment+"\x00"+c.ID+"\x00"), b.Bytes()...))
	return hex.EncodeToString(sum[:])
}

// Plan is a plan folder's header and its cells.
type Plan struct {
	Format      string   `json:"format"`
	Build       string   `json:"build"` // the flowlab build that wrote it (buildinfo.Version)
	Experiments []string `json:"experiments"`
	Scale       string   `json:"scale"`
	Seeds       int      `json:"seeds"`
	Seed        uint64   `json:"seed"` // the base seed
	NCells      int      `json:"cells"`
	CostS       float64  `json:"estimated_cpu_s"`
	Cells       []Cell   `json:"-"`
}

var idPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validID reports whether id is made of path-safe parts joined by '/'.
func validID(id string) bool {
	if id == "" {
		return false
	}
	for _, p := range strings.Split(id, "/") {
		if !idPart.MatchString(p) || p == "." || p == ".." {
			return false
		}
	}
	return true
}

// Write creates the plan folder dir (which must not hold a plan) and writes
// plan.json and cells.jsonl, numbering the cells in order.
func Write(dir string, p *Plan) error {
	if _, err := os.Stat(filepath.Join(dir, PlanFile)); err == nil {
		return fmt.Errorf("%w: %s already holds a plan: choose another folder", ErrPlan, dir)
	}
	seen := map[string]bool{}
	var cost float64
	var lines bytes.Buffer
	for i := range p.Cells {
		c := &p.Cells[i]
		c.Index = i
		if !validID(c.ID) || seen[c.ID] {
			panic(fmt.Sprintf("sweep: cell id %q is empty, not path-safe or repeated", c.ID))
		}
		seen[c.ID] = true
		cost += c.Cost
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		lines.Write(append(b, '\n'))
	}
	if id := nested(p.Cells); id != "" {
		panic(fmt.Sprintf("sweep: cell id %q is a folder of another cell", id))
	}
	if err := checkNeeds(p.Cells); err != nil {
		panic("sweep: " + err.Error())
	}
	p.Format, p.NCells, p.CostS = Format, len(p.Cells), cost
	if p.Build == "" {
		p.Build = buildinfo.Version()
	}
	if err := os.MkdirAll(filepath.Join(dir, CellsDir), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, CellsFile), lines.Bytes()); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, PlanFile), p)
}

// Read reads the plan folder dir and checks it: the format, the number and
// order of cells, and (when both are known) that this build wrote it.
func Read(dir string) (*Plan, error) {
	b, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s holds no %s (write one with flowlab sweep plan)", ErrPlan, dir, PlanFile)
		}
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPlan, filepath.Join(dir, PlanFile), err)
	}
	if p.Format != Format {
		return nil, fmt.Errorf("%w: %s is in format %q, this flowlab reads %q: plan again", ErrPlan, dir, p.Format, Format)
	}
	if err := checkBuild(dir, p.Build, buildinfo.Version()); err != nil {
		return nil, err
	}
	if p.Cells, err = readCells(filepath.Join(dir, CellsFile)); err != nil {
		return nil, err
	}
	if len(p.Cells) != p.NCells {
		return nil, fmt.Errorf("%w: %s lists %d cells, %s says %d", ErrPlan, CellsFile, len(p.Cells), PlanFile, p.NCells)
	}
	return &p, nil
}

// checkBuild refuses a plan that another known build (planned) wrote when
// this build (current) is known too.
func checkBuild(dir, planned, current string) error {
	if planned != current && buildinfo.Identifies(planned) && buildinfo.Identifies(current) {
		return fmt.Errorf("%w: %s was planned by flowlab %s, this is %s: run it with that build, or plan again", ErrPlan, dir, planned, current)
	}
	return nil
}

// readCells parses cells.jsonl, checking that cell i has index i and a
// path-safe id.
func readCells(path string) ([]Cell, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPlan, err)
	}
	defer f.Close()
	var cells []Cell
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var c Cell
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", ErrPlan, path, line, err)
		}
		if c.Index != len(cells) || !validID(c.ID) || len(c.Config) == 0 {
			return nil, fmt.Errorf("%w: %s line %d: cell %q has index %d, want %d, a path-safe id and a config", ErrPlan, path, line, c.ID, c.Index, len(cells))
		}
		cells = append(cells, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPlan, path, err)
	}
	if id := nested(cells); id != "" {
		return nil, fmt.Errorf("%w: %s: cell id %q is also the folder of another cell", ErrPlan, path, id)
	}
	if err := checkNeeds(cells); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPlan, path, err)
	}
	return cells, nil
}

// checkNeeds checks that every cell a cell needs is another cell of the
// plan that needs none itself: one level, so that two stages (the needed
// cells, then the rest) always suffice.
func checkNeeds(cells []Cell) error {
	for i, c := range cells {
		for _, j := range c.Needs {
			if j < 0 || j >= len(cells) || j == i || len(cells[j].Needs) > 0 {
				return fmt.Errorf("cell %d (%s) needs cell %d, which is out of range, itself, or needs others", i, c.ID, j)
			}
		}
	}
	return nil
}

// nested returns an id that is a leading part of another's ("a" and "a/b"),
// whose folders would hold each other; "" when there is none.
func nested(cells []Cell) string {
	ids := make(map[string]bool, len(cells))
	for _, c := range cells {
		ids[c.ID] = true
	}
	for _, c := range cells {
		for i := range len(c.ID) {
			if c.ID[i] == '/' && ids[c.ID[:i]] {
				return c.ID[:i]
			}
		}
	}
	return ""
}

// writeJSON writes v indented, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}
