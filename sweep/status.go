package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/internal/dirlock"
)

// State is where a cell stands.
type State string

// The states of a cell.
const (
	Missing  State = "missing" // never started, or started and stopped without an error
	Running  State = "running" // a process holds its lock
	Failed   State = "failed"  // its last attempt returned an error
	Finished State = "done"
)

// CellState is one cell's state.
type CellState struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	State State  `json:"state"`
	Error string `json:"error,omitempty"`
}

// Status reads the state of every cell of the plan in dir.
func Status(dir string, p *Plan) ([]CellState, error) {
	out := make([]CellState, len(p.Cells))
	for i, c := range p.Cells {
		s, msg, err := cellState(CellDir(dir, c), c)
		if err != nil {
			return nil, err
		}
		out[i] = CellState{Index: i, ID: c.ID, State: s, Error: msg}
	}
	return out, nil
}

func cellState(cdir string, c Cell) (State, string, error) {
	if _, err := os.Stat(cdir); errors.Is(err, os.ErrNotExist) {
		return Missing, "", nil
	}
	unlock, err := dirlock.LockNamed(cdir, LockFile)
	if errors.Is(err, dirlock.ErrLocked) {
		return Running, "", nil
	}
	if err != nil {
		return "", "", err
	}
	defer unlock()
	if done, err := isDone(cdir, c); err != nil {
		return Failed, err.Error(), nil
	} else if done {
		return Finished, "", nil
	}
	b, err := os.ReadFile(filepath.Join(cdir, FailedFile))
	if err == nil {
		var f struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &f) != nil || f.Error == "" {
			f.Error = strings.Join(strings.Fields(string(b)), " ")
		}
		return Failed, f.Error, nil
	}
	return Missing, "", nil
}

// Indices returns the indices of the cells in any of the states.
func Indices(states []CellState, want ...State) []int {
	var out []int
	for _, s := range states {
		for _, w := range want {
			if s.State == w {
				out = append(out, s.Index)
				break
			}
		}
	}
	return out
}

// ArrayList writes sorted indices as a job-array list: "0-3,7,9-12".
func ArrayList(idx []int) string {
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(idx[i]))
		if j > i {
			fmt.Fprintf(&b, "-%d", idx[j])
		}
		i = j + 1
	}
	return b.String()
}
