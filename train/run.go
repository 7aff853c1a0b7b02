package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/internal/dirlock"
	"github.com/flowlab/flowlab/nn"
)

// The files of a run folder.
const (
	ConfigFile     = "config.json"       // the Config, everything needed to rerun
	ModelFile      = "model.safetensors" // the drift b (EMA weights when EMA is on)
	EtaFile        = "eta.safetensors"   // the denoiser η, for stochastic interpolants
	CheckpointFile = "checkpoint.ckpt"   // the training state for resume
	LossFile       = "loss.csv"          // step,loss[,eta_loss],lr
	MetricsFile    = "metrics.json"      // Metrics of the finished run
)

// ErrRunExists is wrapped by Run's error when the folder already holds a run
// and resume was not asked for.
var ErrRunExists = errors.New("run folder already holds a run")

// ErrRunLocked is wrapped by Run's error when another process is training
// in the same folder (see internal/dirlock); it also wraps dirlock.ErrLocked.
var ErrRunLocked = errors.New("run folder is in use")

// RunOptions are the settings of Run that do not change the trained weights.
type RunOptions struct {
	// Resume continues the run in the folder from its checkpoint. The
	// folder's config.json must match the configuration.
	Resume bool
	// Source and Target, when set, are used instead of parsing cfg.Source
	// and cfg.Target.
	Source, Target dist.Sampler
	// Progress and OnStep are passed to Fit.
	Progress io.Writer
	OnStep   func(StepInfo) error
}

// Metrics summarises a finished run (metrics.json). Its bytes depend only on
// the configuration and seed.
type Metrics struct {
	Steps      int     `json:"steps"`
	ConfigHash string  `json:"config_hash"`
	Weights    string  `json:"weights"`    // "ema" or "raw": what model.safetensors holds
	FinalLoss  float64 `json:"final_loss"` // mean drift loss of the last FinalWindow steps
	// FinalEtaLoss is the mean denoiser loss of the same steps (stochastic
	// interpolants only).
	FinalEtaLoss *float64 `json:"final_eta_loss,omitempty"`
	FinalWindow  int      `json:"final_window"`
}

// fileDigest returns the digest of a data set read from a file (a file:
// SPEC), or "" for any other sampler.
func fileDigest(s dist.Sampler) string {
	if d, ok := s.(*dist.Dataset); ok && strings.HasPrefix(d.Name(), "file:") {
		return d.Digest()
	}
	return ""
}

// finalWindow is how many last steps FinalLoss averages.
const finalWindow = 100

// Run trains cfg into the run folder dir (created if needed): config.json
// first, then a checkpoint and loss.csv every cfg.CheckpointEvery steps and at
// the end, then model.safetensors (and eta.safetensors) and metrics.json.
// Every file is written atomically, so a run killed at any moment leaves a
// folder that Run with Resume continues to the same bits as an uninterrupted
// run.
//
// A cancelled ctx writes a checkpoint and returns an error wrapping
// ErrInterrupted. A NaN or Inf stops with an error wrapping ErrNonFinite and
// leaves the last good checkpoint as it was. Configuration problems wrap
// ErrConfig; a folder that already holds a run (without Resume) ErrRunExists;
// a folder another process is training in (its lock is held) ErrRunLocked.
func Run(ctx context.Context, dir string, cfg Config, opts RunOptions) (*Result, error) {
	src, tgt, err := runData(cfg, opts)
	if err != nil {
		return nil, err
	}
	if cfg, err = Prepare(src, tgt, cfg); err != nil {
		return nil, err
	}
	cfg.SourceData, cfg.TargetData = fileDigest(src), fileDigest(tgt)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	unlock, err := dirlock.Lock(dir)
	if err != nil {
		if errors.Is(err, dirlock.ErrLocked) {
			return nil, cfgError{ErrRunLocked, err}
		}
		return nil, err
	}
	defer unlock()
	cfgPath, ckptPath := filepath.Join(dir, ConfigFile), filepath.Join(dir, CheckpointFile)
	var resume *Checkpoint
	if opts.Resume {
		if resume, err = resumeFrom(dir, cfg); err != nil {
			return nil, err
		}
	} else {
		for _, f := range []string{ConfigFile, CheckpointFile, ModelFile} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				return nil, cfgError{ErrRunExists, fmt.Errorf("%s already holds a run (%s): resume it or choose another folder", dir, f)}
			}
		}
	}
	if err := atomicfile.WriteBytes(cfgPath, cfg.MarshalIndent()); err != nil {
		return nil, err
	}
	hasEta := cfg.HasEta()
	res, err := Fit(ctx, src, tgt, cfg, Options{
		Progress: opts.Progress,
		OnStep:   opts.OnStep,
		Resume:   resume,
		Checkpoint: func(c *Checkpoint) error {
			// loss.csv first: after a crash between the two writes the
			// checkpoint (which holds the history) is the older one, and the
			// resumed run rewrites loss.csv from it.
			if err := writeLossCSV(filepath.Join(dir, LossFile), lossRows(c), hasEta); err != nil {
				return err
			}
			return SaveCheckpoint(ckptPath, c)
		},
	})
	if err != nil {
		return res, err
	}
	return res, saveRun(dir, cfg, res)
}

// runData returns the source and target: opts' samplers, else cfg's SPECs.
func runData(cfg Config, opts RunOptions) (src, tgt dist.Sampler, err error) {
	src, tgt = opts.Source, opts.Target
	if src == nil {
		if src, err = dist.Parse(cfg.Source); err != nil {
			return nil, nil, cfgErrorf("source: %w", err)
		}
	}
	if tgt == nil {
		if tgt, err = dist.Parse(cfg.Target); err != nil {
			return nil, nil, cfgErrorf("target: %w", err)
		}
	}
	return src, tgt, nil
}

// resumeFrom checks that the run in dir was started with cfg and on the same
// data, and returns its checkpoint (nil when it was killed before the first).
func resumeFrom(dir string, cfg Config) (*Checkpoint, error) {
	cfgPath := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(cfgPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, cfgErrorf("nothing to resume: %s has no %s", dir, ConfigFile)
	}
	if err != nil {
		return nil, err
	}
	old, err := ParseConfig(data)
	if err != nil {
		return nil, cfgErrorf("%s: %w", cfgPath, err)
	}
	for _, d := range [...]struct{ role, spec, oldSpec, was, now string }{
		{"source", cfg.Source, old.Source, old.SourceData, cfg.SourceData},
		{"target", cfg.Target, old.Target, old.TargetData, cfg.TargetData},
	} {
		switch {
		case d.spec != d.oldSpec || d.was == "" || d.was == d.now:
			// Another SPEC is refused by the hash below; a run
			// recorded before digests existed cannot be checked.
		case d.now == "":
			return nil, cfgErrorf("the %s data (%s) of the run in %s was recorded as %s, but this %s is not a file: data set, so it cannot be checked: resume with the file",
				d.role, d.spec, dir, d.was, d.role)
		default:
			return nil, cfgErrorf("the %s data (%s) has changed since the run in %s started (recorded %s, now %s): restore it, or train into another folder",
				d.role, d.spec, dir, d.was, d.now)
		}
	}
	if old.Hash() != cfg.Hash() {
		return nil, cfgErrorf("%s was written by another configuration (%s); resume with the same settings or choose another folder",
			cfgPath, ConfigDiff(old, cfg))
	}
	resume, err := LoadCheckpoint(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // killed before the first checkpoint: start over
	} else if err != nil {
		return nil, cfgErrorf("%w", err)
	}
	return resume, nil
}

// saveRun writes the trained networks and metrics.json into dir.
func saveRun(dir string, cfg Config, res *Result) error {
	if err := res.Net.Save(filepath.Join(dir, ModelFile)); err != nil {
		return err
	}
	if res.Eta != nil {
		if err := res.Eta.Save(filepath.Join(dir, EtaFile)); err != nil {
			return err
		}
	}
	m := Metrics{Steps: cfg.Steps, ConfigHash: cfg.Hash(), Weights: "raw", FinalWindow: min(finalWindow, len(res.Losses))}
	if cfg.EMA > 0 {
		m.Weights = "ema"
	}
	l, el := res.FinalLoss(finalWindow)
	m.FinalLoss = l
	if cfg.HasEta() {
		m.FinalEtaLoss = &el
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, MetricsFile), append(b, '\n'))
}

// lossRows returns the loss history held by a checkpoint.
func lossRows(c *Checkpoint) []StepLoss {
	loss, lr, eta := c.F64["loss"], c.F64["lr"], c.F64["eta_loss"]
	rows := make([]StepLoss, len(loss))
	for i := range rows {
		rows[i] = StepLoss{Step: i + 1, Loss: loss[i], LR: lr[i]}
		if eta != nil {
			rows[i].EtaLoss = eta[i]
		}
	}
	return rows
}

// writeLossCSV writes the loss history atomically.
func writeLossCSV(path string, rows []StepLoss, hasEta bool) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		header := "step,loss,lr\n"
		if hasEta {
			header = "step,loss,eta_loss,lr\n"
		}
		if _, err := io.WriteString(w, header); err != nil {
			return err
		}
		buf := make([]byte, 0, 128)
		for _, r := range rows {
			buf = strconv.AppendInt(buf[:0], int64(r.Step), 10)
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, r.Loss, 'g', -1, 64)
			if hasEta {
				buf = append(buf, ',')
				buf = strconv.AppendFloat(buf, r.EtaLoss, 'g', -1, 64)
			}
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, r.LR, 'g', -1, 64)
			buf = append(buf, '\n')
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		return nil
	})
}

// ConfigDiff names the fields in which a and b differ, for messages:
// "steps 1000 vs 2000, lr 0.001 vs 0.01". CheckpointEvery is ignored.
func ConfigDiff(a, b Config) string {
	a.CheckpointEvery, b.CheckpointEvery = 0, 0
	a.SourceData, a.TargetData, b.SourceData, b.TargetData = "", "", "", "" // checked by Run on their own
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	_ = json.Unmarshal(ja, &ma)
	_ = json.Unmarshal(jb, &mb)
	keys := map[string]bool{}
	for k := range ma {
		keys[k] = true
	}
	for k := range mb {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	s := ""
	for _, k := range names {
		va, _ := json.Marshal(ma[k])
		vb, _ := json.Marshal(mb[k])
		if string(va) != string(vb) {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%s %s vs %s", k, va, vb)
		}
	}
	if s == "" {
		return "no visible difference"
	}
	return s
}

// Trained is a finished run loaded from its folder.
type Trained struct {
	// Model holds config.json, model.safetensors (Net) and eta.safetensors
	// (Eta, nil for a deterministic interpolant); Trained.Sample carries
	// points with it.
	Model
	Metrics Metrics
}

// Load reads a finished run folder: config.json, model.safetensors,
// eta.safetensors (when the interpolant is stochastic) and metrics.json.
// A run that has not finished (no model file) is an error.
func Load(dir string) (*Trained, error) {
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("run %s: %s: %w", dir, ConfigFile, err)
	}
	r := &Trained{Model: Model{Config: cfg}}
	mp := filepath.Join(dir, ModelFile)
	if _, err := os.Stat(mp); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run %s has no %s: training has not finished (resume it with --resume)", dir, ModelFile)
	}
	if r.Net, err = nn.Load(mp); err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if err := checkNet(r.Net, cfg, ModelFile); err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if cfg.HasEta() {
		if r.Eta, err = nn.Load(filepath.Join(dir, EtaFile)); err != nil {
			return nil, fmt.Errorf("run %s: %w", dir, err)
		}
		if err := checkNet(r.Eta, cfg, EtaFile); err != nil {
			return nil, fmt.Errorf("run %s: %w", dir, err)
		}
	}
	if data, err = os.ReadFile(filepath.Join(dir, MetricsFile)); err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if err := json.Unmarshal(data, &r.Metrics); err != nil {
		return nil, fmt.Errorf("run %s: %s: %w", dir, MetricsFile, err)
	}
	return r, nil
}

// checkNet refuses a model file whose network is not the configuration's.
func checkNet(n *nn.Net, cfg Config, file string) error {
	got, want := n.Config(), cfg.NetConfig()
	gj, _ := json.Marshal(got)
	if wn, err := nn.New(want, 0); err == nil {
		want = wn.Config() // with nn's defaults filled in
	}
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		return fmt.Errorf("%s holds network %s, config.json describes %s", file, gj, wj)
	}
	return nil
}
