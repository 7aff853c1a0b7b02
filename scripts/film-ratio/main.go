// Command film-ratio measures what time conditioning costs a training step:
// the FiLM / MLP ratio of training step times at equal widths, for flowlab
// (`flowlab bench --arch mlp|film`) and, as the outside reference, for the
// same two designs in PyTorch (torch_fm.py's step: loss, backward, Adam;
// the FiLM module is the one nn's torch test loads flowlab's weights into:
// a time MLP on sinusoidal features and a Linear head per layer). Both run
// on one thread, alternately, several rounds; it prints per case the median
// and the range of the ratios over the rounds (each ratio from one round, so
// machine drift between rounds does not enter it), and how many times
// PyTorch's step time flowlab's FiLM step takes less.
//
// It installs nothing; without python3-torch it measures flowlab alone.
//
//	go build -o /tmp/flowlab ./cmd/flowlab
//	go run ./scripts/film-ratio -flowlab /tmp/flowlab -rounds 5
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/flowlab/flowlab/nn"
)

// torchStep times torch_fm.py's training step of case (dim, width, depth,
// batch) with an MLP on [x, t] or a FiLM net of time-embedding width E.
const torchStep = `
import json, math, sys, time
import torch
torch.set_num_threads(1)
dim, width, depth, batch, E, steps = map(int, sys.argv[1:7])
class FiLM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        w, hs = dim + 1, [width] * depth
        self.lin = torch.nn.ModuleList()
        for h in hs + [dim]:
            self.lin.append(torch.nn.Linear(w, h))
            w = h
        self.time_embed = torch.nn.Sequential(torch.nn.Linear(16, E), torch.nn.SiLU(), torch.nn.Linear(E, E), torch.nn.SiLU())
        self.film = torch.nn.ModuleList([torch.nn.Linear(E, 2 * h) for h in hs] + [torch.nn.Linear(E, dim)])
        self.om = 10.0 ** (torch.arange(8, dtype=torch.float32) / 7)
    def forward(self, inp, t):
        e = self.time_embed(torch.cat([torch.sin(self.om * t), torch.cos(self.om * t)], 1))
        h = inp
        for i in range(depth):
            s, c = self.film[i](e).chunk(2, dim=1)
            h = torch.nn.functional.silu(self.lin[i](h) * (1 + s) + c)
        return self.lin[depth](h) * (1 + self.film[depth](e))
def mlp():
    layers, d = [], dim + 1
    for _ in range(depth):
        layers += [torch.nn.Linear(d, width), torch.nn.SiLU()]
        d = width
    layers.append(torch.nn.Linear(d, dim))
    return torch.nn.Sequential(*layers)
torch.manual_seed(0)
net = FiLM() if E > 0 else mlp()
call = (lambda inp, t: net(inp, t)) if E > 0 else (lambda inp, t: net(inp))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
def step():
    x0, x1 = torch.randn(batch, dim) * math.sqrt(0.5), torch.randn(batch, dim)
    t = torch.rand(batch, 1)
    xt = (1 - t) * x0 + t * x1
    loss = ((call(torch.cat([xt, t], 1), t) - (x1 - x0)) ** 2).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
for _ in range(20):
    step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
print(json.dumps({"train_steps_per_s": steps / (time.perf_counter() - t0)}))
`

// benchCase is one of flowlab bench's cases (torch_fm.py's).
type benchCase struct {
	name                     string
	dim, width, depth, batch int
	steps                    int // timed steps per run
}

var cases = []benchCase{
	{"tiny", 2, 64, 3, 256, 2000},
	{"toy2d", 2, 256, 3, 512, 300},
	{"toy2d-4k", 2, 256, 3, 4096, 40},
	{"gauss128", 128, 512, 3, 512, 60},
	{"mnist", 784, 512, 3, 1024, 20},
}

func main() {
	flowlab := flag.String("flowlab", "flowlab", "path to the flowlab binary")
	python := flag.String("python", "/usr/bin/python3", "python with torch (skipped when it cannot import torch)")
	only := flag.String("cases", "", "comma-separated cases (default all: "+names()+")")
	rounds := flag.Int("rounds", 5, "alternating rounds per case")
	flag.Parse()
	torch := exec.Command(*python, "-c", "import torch").Run() == nil
	if !torch {
		fmt.Fprintln(os.Stderr, "film-ratio: no python3 with torch; measuring flowlab alone")
	}
	fmt.Printf("%-9s %5s %3s  %-20s %-20s %-20s\n", "case", "width", "E", "flowlab film/mlp", "pytorch film/mlp", "film: flowlab/pytorch speed")
	for _, c := range cases {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), c.name) {
			continue
		}
		e := nn.DefaultTimeEmbed(slices.Repeat([]int{c.width}, c.depth))
		var fl, pt, vs []float64
		for r := 0; r < *rounds; r++ {
			m, f := flowlabRate(*flowlab, c, "mlp"), flowlabRate(*flowlab, c, "film")
			fl = append(fl, m/f)
			if torch {
				tm, tf := torchRate(*python, c, 0), torchRate(*python, c, e)
				pt = append(pt, tm/tf)
				vs = append(vs, f/tf)
			}
		}
		fmt.Printf("%-9s %5d %3d  %-20s %-20s %-20s\n", c.name, c.width, e, summary(fl), summary(pt), summary(vs))
	}
}

func names() string {
	var s []string
	for _, c := range cases {
		s = append(s, c.name)
	}
	return strings.Join(s, ",")
}

// summary formats the median and range of ratios (the median of an even
// count is its upper middle value).
func summary(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	s := slices.Sorted(slices.Values(v))
	return fmt.Sprintf("%.2f [%.2f, %.2f]", s[len(s)/2], s[0], s[len(s)-1])
}

// flowlabRate returns flowlab bench's training steps per second on one
// thread.
func flowlabRate(bin string, c benchCase, arch string) float64 {
	cmd := exec.Command(bin, "bench", "--case", c.name, "--arch", arch, "--steps", fmt.Sprint(c.steps), "--samples", "1000", "--json")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	return rate(cmd)
}

// torchRate returns PyTorch's training steps per second on one thread (an
// MLP when e is 0, else FiLM with time-embedding width e).
func torchRate(python string, c benchCase, e int) float64 {
	cmd := exec.Command(python, "-c", torchStep, fmt.Sprint(c.dim), fmt.Sprint(c.width), fmt.Sprint(c.depth), fmt.Sprint(c.batch), fmt.Sprint(e), fmt.Sprint(c.steps))
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	return rate(cmd)
}

// rate runs cmd and returns the train_steps_per_s of its last JSON line.
func rate(cmd *exec.Cmd) float64 {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		fatal("%s: %v\n%s", cmd.Args[0], err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r struct {
		TrainStepsPS float64 `json:"train_steps_per_s"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil || r.TrainStepsPS <= 0 {
		fatal("%s: no train_steps_per_s in %q (%v)", cmd.Args[0], out.String(), err)
	}
	return r.TrainStepsPS
}

func fatal(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "film-ratio: "+format+"\n", a...)
	os.Exit(1)
}
